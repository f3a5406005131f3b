package redact

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func allBuiltins(t testing.TB) *Redactor {
	var ds []Detector
	for _, name := range Builtins {
		d, err := Builtin(name)
		require.NoError(t, err)
		ds = append(ds, d)
	}
	return New(ds...)
}

func TestReplaceGivesEachValueItsPlaceholder(t *testing.T) {
	r := allBuiltins(t)
	assigned := map[string]string{}
	counts := map[string]int{}
	text := "Mail ann@example.com, then ann@example.com again, or bob@example.com; card 4111 1111 1111 1111."
	out, n, err := r.Replace(text, func(kind, value string) (string, error) {
		if ph, ok := assigned[value]; ok {
			return ph, nil
		}
		counts[kind]++
		assigned[value] = fmt.Sprintf("[%s_%d]", kind, counts[kind])
		return assigned[value], nil
	})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, "Mail [EMAIL_1], then [EMAIL_1] again, or [EMAIL_2]; card [CARD_1].", out)

	values := map[string]string{}
	for v, ph := range assigned {
		values[ph] = v
	}
	assert.Equal(t, text, Restore(out, values))
	assert.Equal(t, "[PHONE_9] stays", Restore("[PHONE_9] stays", values), "an unknown placeholder is left alone")
}

func TestCustomPattern(t *testing.T) {
	d, err := Custom("employee id", `EMP-[0-9]{6}`)
	require.NoError(t, err)
	m := New(d).Find("Badge EMP-004211 opened the door.")
	require.Len(t, m, 1)
	assert.Equal(t, Match{Kind: "EMPLOYEE_ID", Value: "EMP-004211", Start: 6, End: 16}, m[0])

	_, err = Custom("broken", `EMP-(`)
	assert.Error(t, err)
	_, err = Builtin("passport")
	assert.EqualError(t, err, `there is no detector "passport"; the built-in detectors are email, iban, card, national_id, phone, customer_name`)
}

func TestIBANTrimsAWordThePatternSwallowed(t *testing.T) {
	m := allBuiltins(t).Find("Pay GB82 WEST 1234 5698 7654 32 TO the supplier")
	require.Len(t, m, 1)
	assert.Equal(t, "GB82 WEST 1234 5698 7654 32", m[0].Value)
}

type sample struct {
	Text   string `json:"text"`
	Expect []struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	} `json:"expect"`
}

// score is one detector's counts on the labelled set.
type score struct{ truePos, falsePos, falseNeg int }

func (s score) precision() float64 { return ratio(s.truePos, s.truePos+s.falsePos) }
func (s score) recall() float64    { return ratio(s.truePos, s.truePos+s.falseNeg) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestPrecisionAndRecallOnTheLabelledSamples measures the built-in
// detectors on testdata/redaction/samples.jsonl, a hand-labelled set of
// support, finance and HR sentences with hard negatives (order and invoice
// numbers, dates, amounts, Luhn-failing and checksum-failing numbers). The
// figures go in docs/SECURITY.md; the floors catch a regression.
func TestPrecisionAndRecallOnTheLabelledSamples(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "redaction", "samples.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	r := allBuiltins(t)
	scores := map[string]*score{}
	get := func(kind string) *score {
		if scores[kind] == nil {
			scores[kind] = &score{}
		}
		return scores[kind]
	}
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s sample
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s), "line %d", lines+1)
		lines++
		want := map[string]bool{}
		for _, e := range s.Expect {
			want[e.Kind+"\x00"+e.Value] = true
			get(e.Kind)
		}
		for _, m := range r.Find(s.Text) {
			if key := m.Kind + "\x00" + m.Value; want[key] {
				get(m.Kind).truePos++
				delete(want, key)
			} else {
				get(m.Kind).falsePos++
				t.Logf("false positive %s %q in %q", m.Kind, m.Value, s.Text)
			}
		}
		for key := range want {
			kind, value, _ := strings.Cut(key, "\x00")
			get(kind).falseNeg++
			t.Logf("missed %s %q in %q", kind, value, s.Text)
		}
	}
	require.NoError(t, sc.Err())
	require.Greater(t, lines, 40)

	var total score
	kinds := make([]string, 0, len(scores))
	for k := range scores {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var table strings.Builder
	table.WriteString("| detector | found | false positives | missed | precision | recall |\n|---|---|---|---|---|---|\n")
	for _, k := range kinds {
		s := *scores[k]
		total.truePos += s.truePos
		total.falsePos += s.falsePos
		total.falseNeg += s.falseNeg
		fmt.Fprintf(&table, "| %s | %d | %d | %d | %.2f | %.2f |\n", k, s.truePos, s.falsePos, s.falseNeg, s.precision(), s.recall())
		assert.GreaterOrEqual(t, s.precision(), 0.8, "%s precision", k)
		assert.GreaterOrEqual(t, s.recall(), 0.8, "%s recall", k)
	}
	fmt.Fprintf(&table, "| all | %d | %d | %d | %.2f | %.2f |\n", total.truePos, total.falsePos, total.falseNeg, total.precision(), total.recall())
	t.Logf("%d samples\n%s", lines, table.String())
	assert.GreaterOrEqual(t, total.precision(), 0.9)
	assert.GreaterOrEqual(t, total.recall(), 0.9)
}

// TestLinesBoundMatches: a match never spans a line break, even where a
// custom pattern would, and offsets count from the start of the whole text.
func TestLinesBoundMatches(t *testing.T) {
	d, err := Custom("account", `ACC\s+[0-9]{4}`)
	require.NoError(t, err)
	r := New(d, mustBuiltin(t, Email))
	m := r.Find("ACC\n1234 is not one\nbut ACC 5678 is, and so is\nann@example.com")
	require.Len(t, m, 2)
	assert.Equal(t, Match{Kind: "ACCOUNT", Value: "ACC 5678", Start: 24, End: 32}, m[0])
	assert.Equal(t, Match{Kind: "EMAIL", Value: "ann@example.com", Start: 47, End: 62}, m[1])
}

// TestJSONEscapesBoundMatches: an address inside escaped JSON is found as
// the decoded string would have it, not glued to the escape before it.
func TestJSONEscapesBoundMatches(t *testing.T) {
	r := New(mustBuiltin(t, Email))
	text := `{"note":"write to \u003ccamille.martin@example.com\u003e today"}`
	m := r.Find(text)
	require.Len(t, m, 1)
	assert.Equal(t, "camille.martin@example.com", m[0].Value)
	out, n, err := r.Replace(text, func(kind, value string) (string, error) { return "[EMAIL_1]", nil })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, `{"note":"write to \u003c[EMAIL_1]\u003e today"}`, out)
}

// TestNamesMatchTheRunsCustomersAsWholeWords: the full name and its parts,
// in any case, never inside another word.
func TestNamesMatchTheRunsCustomersAsWholeWords(t *testing.T) {
	r := New(Names([]string{"Camille Martin"}))
	var got []string
	for _, m := range r.Find("Dear CAMILLE, Camille Martin wrote; Martinez and Camilleri did not. Al too.") {
		got = append(got, m.Value)
	}
	assert.Equal(t, []string{"CAMILLE", "Camille Martin"}, got)
	assert.Empty(t, New(Names(nil)).Find("anything"))
}

func mustBuiltin(t *testing.T, name string) Detector {
	d, err := Builtin(name)
	require.NoError(t, err)
	return d
}
