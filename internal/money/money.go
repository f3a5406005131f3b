// Package money is exact money: decimal amounts (shopspring/decimal) in Go,
// integer minor units in the business store, each currency with its own
// number of minor digits.
package money

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// minorDigits are the minor-unit digits of the currencies Tandem knows
// (ISO 4217).
var minorDigits = map[string]int32{
	"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "DKK": 2, "NOK": 2, "PLN": 2, "CZK": 2, "CAD": 2, "AUD": 2,
	"JPY": 0, "KRW": 0, "ISK": 0,
	"KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3,
}

// Known reports whether Tandem knows the currency.
func Known(currency string) bool {
	_, ok := minorDigits[strings.ToUpper(currency)]
	return ok
}

// Digits is the number of minor digits of a known currency; 2 for others.
func Digits(currency string) int32 {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// Round rounds an amount to its currency's minor unit, half away from zero.
func Round(d decimal.Decimal, currency string) decimal.Decimal {
	return d.Round(Digits(currency))
}

// Exact reports whether an amount is a whole number of its currency's
// minor units.
func Exact(d decimal.Decimal, currency string) bool {
	return Round(d, currency).Equal(d)
}

// Format writes an amount with its currency's minor digits: "1234.50 EUR".
func Format(d decimal.Decimal, currency string) string {
	return d.StringFixed(Digits(currency)) + " " + currency
}

// Fixed writes an amount with its currency's minor digits, no currency.
func Fixed(d decimal.Decimal, currency string) string {
	return d.StringFixed(Digits(currency))
}

// ToMinor is an amount in whole minor units, as the store keeps it. An
// amount with more digits than its currency has is refused.
func ToMinor(d decimal.Decimal, currency string) (int64, error) {
	if !Exact(d, currency) {
		return 0, fmt.Errorf("%s has more than the %d minor digits of %s", d.String(), Digits(currency), currency)
	}
	return d.Shift(Digits(currency)).IntPart(), nil
}

// FromMinor is the amount of a number of minor units.
func FromMinor(minor int64, currency string) decimal.Decimal {
	return decimal.New(minor, -Digits(currency))
}
