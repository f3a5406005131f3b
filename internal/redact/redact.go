// Package redact finds personal data in text before it reaches a model:
// email addresses, phone numbers, IBANs, card numbers, national ids and
// custom patterns. Each match is replaced by a placeholder such as
// [EMAIL_1]; the caller decides which placeholder a value gets, so that the
// same value keeps the same placeholder for a whole run.
package redact

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Built-in detector names, as the data policy spells them.
const (
	Email      = "email"
	Phone      = "phone"
	IBAN       = "iban"
	Card       = "card"
	NationalID = "national_id"
	// CustomerName matches the names on the customer records a run deals
	// with: no pattern finds names in general, so each run's own customers
	// are its patterns (see Names).
	CustomerName = "customer_name"
)

// Builtins lists the built-in detectors, in the order they claim text: a
// span one detector claims is not offered to the ones after it.
var Builtins = []string{Email, IBAN, Card, NationalID, Phone, CustomerName}

// Names returns a detector for people's names: each full name, and each of
// its words of three letters or more, as whole words in any case.
func Names(names []string) Detector {
	var alts []string
	seen := map[string]bool{}
	add := func(s string) {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" && !seen[s] {
			seen[s] = true
			alts = append(alts, regexp.QuoteMeta(s))
		}
	}
	for _, n := range names {
		add(strings.Join(strings.Fields(n), " "))
	}
	for _, n := range names {
		for _, w := range strings.Fields(n) {
			if utf8.RuneCountInString(w) >= 3 {
				add(w)
			}
		}
	}
	if len(alts) == 0 {
		return Detector{Kind: "NAME", pattern: regexp.MustCompile(`$^`)}
	}
	// Longer alternatives first, so a full name wins over its parts.
	slices.SortStableFunc(alts, func(a, b string) int { return len(b) - len(a) })
	return Detector{Kind: "NAME", pattern: regexp.MustCompile(`(?i)(?:^|[^\pL\pN])(` + strings.Join(alts, "|") + `)(?:[^\pL\pN]|$)`)}
}

// With returns a redactor that runs r's detectors, then the extra ones on
// what they left: a name is never taken out of an email address.
func (r *Redactor) With(extra ...Detector) *Redactor {
	if r == nil {
		return New(extra...)
	}
	return New(append(slices.Clone(r.detectors), extra...)...)
}

// Detector finds one kind of personal data.
type Detector struct {
	Kind    string         // the placeholder's label, such as EMAIL
	pattern *regexp.Regexp // candidate matches
	// valid returns how much of a candidate is the real thing: its whole
	// length, a shorter prefix, or 0 for none of it. Nil keeps every match.
	valid func(string) int
	// needs lists bytes of which every match holds at least one, so that
	// text without any is not searched: Go's regular expressions take tens
	// of microseconds a line for these patterns.
	needs string
}

// Custom returns a detector for a custom pattern, labelled with name.
func Custom(name, pattern string) (Detector, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return Detector{}, err
	}
	return Detector{Kind: label(name), pattern: re}, nil
}

// Builtin returns the built-in detector called name.
func Builtin(name string) (Detector, error) {
	switch name {
	case Email:
		return Detector{Kind: "EMAIL", pattern: emailPattern, needs: "@"}, nil
	case Phone:
		return Detector{Kind: "PHONE", pattern: phonePattern, valid: validPhone, needs: digits}, nil
	case IBAN:
		return Detector{Kind: "IBAN", pattern: ibanPattern, valid: validIBAN, needs: digits}, nil
	case Card:
		return Detector{Kind: "CARD", pattern: cardPattern, valid: validCard, needs: digits}, nil
	case NationalID:
		return Detector{Kind: "NATIONAL_ID", pattern: nationalIDPattern, valid: validNationalID, needs: digits}, nil
	case CustomerName:
		return Names(nil), nil
	}
	return Detector{}, fmt.Errorf("there is no detector %q; the built-in detectors are %s", name, strings.Join(Builtins, ", "))
}

const digits = "0123456789"

// Match is one piece of personal data found in a text.
type Match struct {
	Kind       string
	Value      string
	Start, End int // byte offsets
}

// Redactor runs a set of detectors.
type Redactor struct {
	detectors []Detector
}

// New returns a redactor running detectors in order; earlier ones win
// overlapping spans.
func New(detectors ...Detector) *Redactor {
	return &Redactor{detectors: detectors}
}

// jsonEscape is an escape sequence inside a JSON string. Text that holds
// JSON is searched between them, as the decoded strings would be: "\u003c"
// before an address is "<", never part of it.
var jsonEscape = regexp.MustCompile(`\\(u[0-9a-fA-F]{4}|["\\/bfnrt])`)

// Find returns the matches in text, in order, without overlaps. Line
// breaks and the escape sequences of JSON strings bound matches: no piece
// of personal data spans a line, so each line can be redacted on its own.
func (r *Redactor) Find(text string) []Match {
	if r == nil {
		return nil
	}
	var found []Match
	for start := 0; start <= len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		found = append(found, r.findInLine(text[start:end], start)...)
		start = end + 1
	}
	return found
}

// findInLine finds the matches in one line that starts at offset, between
// its JSON escape sequences.
func (r *Redactor) findInLine(line string, offset int) []Match {
	var found []Match
	last := 0
	for _, loc := range jsonEscape.FindAllStringIndex(line, -1) {
		found = append(found, r.findIn(line[last:loc[0]], offset+last)...)
		last = loc[1]
	}
	return append(found, r.findIn(line[last:], offset+last)...)
}

// findIn finds the matches in a piece of text that starts at offset.
func (r *Redactor) findIn(text string, offset int) []Match {
	var found []Match
	taken := func(s, e int) bool {
		return slices.ContainsFunc(found, func(m Match) bool { return s < m.End && m.Start < e })
	}
	for _, d := range r.detectors {
		if d.needs != "" && !strings.ContainsAny(text, d.needs) {
			continue
		}
		for _, loc := range d.pattern.FindAllStringSubmatchIndex(text, -1) {
			s, e := loc[0], loc[1]
			if len(loc) >= 4 && loc[2] >= 0 { // a detector's first group is the value itself
				s, e = loc[2], loc[3]
			}
			if d.valid != nil {
				e = s + d.valid(text[s:e])
			}
			if e == s || taken(s, e) {
				continue
			}
			found = append(found, Match{Kind: d.Kind, Value: text[s:e], Start: s, End: e})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Start < found[j].Start })
	for i := range found {
		found[i].Start += offset
		found[i].End += offset
	}
	return found
}

// Replace returns text with every match replaced by placeholder(kind, value).
func (r *Redactor) Replace(text string, placeholder func(kind, value string) (string, error)) (string, int, error) {
	matches := r.Find(text)
	if len(matches) == 0 {
		return text, 0, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		ph, err := placeholder(m.Kind, m.Value)
		if err != nil {
			return "", 0, err
		}
		b.WriteString(text[last:m.Start])
		b.WriteString(ph)
		last = m.End
	}
	b.WriteString(text[last:])
	return b.String(), len(matches), nil
}

// placeholderPattern finds placeholders in a model's answer.
var placeholderPattern = regexp.MustCompile(`\[[A-Z][A-Z0-9_]*_[0-9]+\]`)

// Restore replaces the placeholders in text that values knows.
func Restore(text string, values map[string]string) string {
	if len(values) == 0 {
		return text
	}
	return placeholderPattern.ReplaceAllStringFunc(text, func(ph string) string {
		if v, ok := values[ph]; ok {
			return v
		}
		return ph
	})
}

func label(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, name)
}
