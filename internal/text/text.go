// Package text shortens and escapes text for people: one UTF-8-safe
// shortener, and an escaper for text shown on a terminal.
package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Shorten returns s cut to at most n bytes on a character boundary, with
// "…" marking a cut.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Flatten puts s on one line, every run of white space one space.
func Flatten(s string) string { return strings.Join(strings.Fields(s), " ") }

// OneLine flattens s to one line of at most n characters, with control
// and text-direction characters escaped, for a terminal.
func OneLine(s string, n int) string {
	s = Terminal(Flatten(s))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Terminal escapes the characters that would let text steer a terminal or
// read differently from what it is: control characters other than line
// breaks and tabs, and text-direction overrides, as \u escapes.
func Terminal(s string) string {
	if !strings.ContainsFunc(s, Steers) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if Steers(r) {
			fmt.Fprintf(&b, `\u%04X`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Steers reports whether r can steer a terminal or the reading direction
// of text: a control character other than a line feed or a tab, or a
// text-direction override or isolate.
func Steers(r rune) bool {
	return (unicode.IsControl(r) && r != '\n' && r != '\t') || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
