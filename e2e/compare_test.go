package e2e

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompareRunsATaskBothWays runs `starter compare` on a ticket with the
// real test model: two runs through ticket routing and two through the
// customer-service agent, sandboxed, with every decision answered. The
// measures come from the runs' histories; the Markdown, JSON and SVG reports
// are written.
func TestCompareRunsATaskBothWays(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	out := filepath.Join(t.TempDir(), "cmp")
	code, stdout, stderr := td.starter(t, "compare", "ticket", filepath.Join("testdata", "tickets", "double-charge.json"), "-n", "2", "--max-steps", "2", "-o", "json", "--out", out)
	require.Equal(t, 0, code, stderr)

	var cmp struct {
		Task      string `json:"task"`
		RunsEach  int    `json:"runsEach"`
		Sandboxed bool   `json:"sandboxed"`
		Sides     []struct {
			Way      string `json:"way"`
			Measures []struct {
				WorkflowID                                      string
				Outcome, Failed                                 string
				Steps, ModelCalls, Tokens, HistoryBytes, Events int
				Wall                                            int64
			} `json:"measures"`
			Summary struct {
				Outcome   string  `json:"outcome"`
				Agreement float64 `json:"agreement"`
			} `json:"summary"`
		} `json:"sides"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &cmp), stdout)
	assert.Equal(t, "ticket", cmp.Task)
	assert.True(t, cmp.Sandboxed, "comparisons are sandboxed unless --live")
	require.Len(t, cmp.Sides, 2)
	assert.Equal(t, "workflow", cmp.Sides[0].Way)
	assert.Equal(t, "agent", cmp.Sides[1].Way)
	for _, side := range cmp.Sides {
		require.Len(t, side.Measures, 2, side.Way)
		for _, m := range side.Measures {
			assert.Empty(t, m.Failed, "%s %s", side.Way, m.WorkflowID)
			assert.Positive(t, m.ModelCalls, "%s runs call the model", side.Way)
			assert.Positive(t, m.Tokens)
			assert.Positive(t, m.Steps)
			if side.Way == "agent" {
				assert.LessOrEqual(t, m.ModelCalls, 2, "--max-steps narrows the agent's budget to two decisions")
			}
			assert.Positive(t, m.Wall)
			assert.Greater(t, m.HistoryBytes, 1000)
			assert.Greater(t, m.Events, 5)
		}
		agree := 0
		for _, m := range side.Measures {
			if m.Outcome == side.Summary.Outcome {
				agree++
			}
		}
		assert.Positive(t, agree, "%s: the most common outcome is one the runs had", side.Way)
		assert.InDelta(t, float64(agree)/2, side.Summary.Agreement, 1e-9, "%s: consistency is the share of runs with that outcome", side.Way)
	}
	assert.Regexp(t, `^\w+/\w+ → \S+$`, cmp.Sides[0].Summary.Outcome, "the workflow's outcome is where the ticket went")
	assert.Regexp(t, `^(finished|budget|deadline|invalid|context), `, cmp.Sides[1].Summary.Outcome)

	md, err := os.ReadFile(filepath.Join(out, "compare.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| consistency |")
	assert.Contains(t, string(md), cmp.Sides[1].Measures[0].WorkflowID)
	svg, err := os.ReadFile(filepath.Join(out, "compare.svg"))
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(svg, new(struct{})), "the chart is well-formed SVG")
	assert.Equal(t, 10, strings.Count(string(svg), "<rect x=")-2, "five panels of two bars")

	code, stdout, stderr = td.starter(t, "compare", "ticket", filepath.Join("testdata", "tickets", "double-charge.json"), "-n", "1", "--out", out)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "consistency")
	assert.Contains(t, stdout, "workflow (TicketRouting)")

	code, _, stderr = td.starter(t, "compare", "poem", "x.txt")
	assert.Equal(t, 2, code)
	assert.Equal(t, "starter: compare knows the tasks ticket and invoice, not \"poem\"\n", stderr)
}
