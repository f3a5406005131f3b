package money

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestMinorUnitsPerCurrency(t *testing.T) {
	for _, c := range []struct {
		amount, currency string
		minor            int64
		text             string
	}{
		{"1234.5", "EUR", 123450, "1234.50 EUR"},
		{"-59", "EUR", -5900, "-59.00 EUR"},
		{"1500", "JPY", 1500, "1500 JPY"},
		{"12.345", "KWD", 12345, "12.345 KWD"},
	} {
		minor, err := ToMinor(d(c.amount), c.currency)
		require.NoError(t, err)
		assert.Equal(t, c.minor, minor)
		assert.True(t, FromMinor(minor, c.currency).Equal(d(c.amount)))
		assert.Equal(t, c.text, Format(FromMinor(minor, c.currency), c.currency))
	}
}

func TestAmountsFinerThanTheCurrencyAreRefused(t *testing.T) {
	_, err := ToMinor(d("10.005"), "EUR")
	assert.EqualError(t, err, "10.005 has more than the 2 minor digits of EUR")
	_, err = ToMinor(d("10.5"), "JPY")
	assert.Error(t, err)
	assert.True(t, Round(d("0.125"), "EUR").Equal(d("0.13")), "half away from zero")
	assert.True(t, Round(d("-0.125"), "EUR").Equal(d("-0.13")))
}

func TestKnownCurrencies(t *testing.T) {
	assert.True(t, Known("eur"))
	assert.False(t, Known("XYZ"))
}
