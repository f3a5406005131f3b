package redact

import (
	"math/big"
	"regexp"
	"strings"
)

// The patterns find candidates; the checks below keep the real ones. Where a
// pattern has a group, the group is the value and the rest is context (Go's
// regexp has no look-behind).
var (
	emailPattern = regexp.MustCompile(`(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}\b`)

	// Two letters, two check digits, then groups of four, with or without
	// spaces; the check below trims a trailing word the pattern swallowed.
	ibanPattern = regexp.MustCompile(`\b([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b`)

	// 13 to 19 digits, optionally in groups split by spaces or dashes.
	cardPattern = regexp.MustCompile(`(?:^|[^\w-])([0-9](?:[ -]?[0-9]){12,18})\b`)

	// US social security numbers and UK national insurance numbers.
	nationalIDPattern = regexp.MustCompile(`\b([0-9]{3}-[0-9]{2}-[0-9]{4}|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D])\b`)

	// An optional + or international prefix, then digit groups split by
	// spaces, dots, dashes or a bracketed area code; not glued to a word or
	// a dash before it, so INV-2026-0042 is not a phone number.
	phonePattern = regexp.MustCompile(`(?:^|[^\w+-])((?:\+|00)?[0-9(](?:[0-9]|[ .-]?\(?[0-9]|\)[ .-]?[0-9]){6,18})\b`)

	isoDate = regexp.MustCompile(`^[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}$`)
)

// validIBAN keeps an IBAN whose length fits and whose mod-97 check holds,
// trimming trailing groups the pattern may have taken from the next word.
func validIBAN(s string) int {
	for end := len(s); end > 0; {
		if ibanChecks(strings.ReplaceAll(s[:end], " ", "")) {
			return end
		}
		i := strings.LastIndexByte(s[:end], ' ')
		if i < 0 {
			return 0
		}
		end = i
	}
	return 0
}

func ibanChecks(iban string) bool {
	if len(iban) < 15 || len(iban) > 34 {
		return false
	}
	rearranged := iban[4:] + iban[:4]
	var digits strings.Builder
	for _, r := range rearranged {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			digits.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// validCard keeps 13 to 19 digits that pass the Luhn check.
func validCard(s string) int {
	d := onlyDigits(s)
	if len(d) < 13 || len(d) > 19 {
		return 0
	}
	sum := 0
	for i := range d {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	if sum%10 != 0 {
		return 0
	}
	return len(s)
}

// validNationalID keeps social security numbers with a possible area, group
// and serial, and national insurance numbers without a reserved prefix.
func validNationalID(s string) int {
	if strings.Contains(s, "-") {
		area, group, serial := s[0:3], s[4:6], s[7:11]
		if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
			return 0
		}
		return len(s)
	}
	switch strings.ToUpper(s[:2]) {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return 0
	}
	return len(s)
}

// validPhone keeps 7 to 15 digits written the way phone numbers are: with an
// international prefix, a leading trunk 0, a bracketed area code, a local
// 555-0142 shape, or ten digits or more in groups of two or more; never a
// date, a social security number or an unbroken run of digits longer than a
// national number.
func validPhone(s string) int {
	s = strings.TrimRight(s, " .-")
	d := onlyDigits(s)
	if len(d) < 7 || len(d) > 15 || isoDate.MatchString(s) || ssnShape.MatchString(s) {
		return 0
	}
	groups := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == '-' })
	for _, g := range groups[1:] {
		if len(onlyDigits(g)) < 2 {
			return 0
		}
	}
	international := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	switch {
	case len(groups) == 1 && !international:
		if len(d) == 10 || len(d) == 11 && d[0] == '0' {
			return len(s)
		}
		return 0
	case international, strings.HasPrefix(s, "0"), strings.Contains(s, "("), len(d) >= 10, localShape.MatchString(s):
		return len(s)
	}
	return 0
}

var (
	ssnShape   = regexp.MustCompile(`^[0-9]{3}-[0-9]{2}-[0-9]{4}$`)
	localShape = regexp.MustCompile(`^[0-9]{3}[ .-][0-9]{4}$`)
)

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
