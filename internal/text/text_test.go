package text

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestShortenNeverCutsACharacter(t *testing.T) {
	s := "Grüße aus Köln"
	for n := 0; n < len(s)+2; n++ {
		got := Shorten(s, n)
		assert.True(t, utf8.ValidString(got), "n=%d: %q", n, got)
	}
	assert.Equal(t, "Gr…", Shorten(s, 3), "ü is two bytes; the cut falls before it")
	assert.Equal(t, s, Shorten(s, 100))
}

func TestTerminalEscapesControlAndDirectionCharacters(t *testing.T) {
	assert.Equal(t, `approve \u001B[2J now`, Terminal("approve \x1b[2J now"))
	assert.Equal(t, `invoice\u202Efdp.exe`, Terminal("invoice\u202efdp.exe"))
	assert.Equal(t, "line one\nline two", Terminal("line one\nline two"))
	assert.Equal(t, `a \u001B b`, OneLine("a \x1b\n b", 20))
	assert.Equal(t, "abcd…", OneLine("abcdefgh", 5))
}
