package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleComparison() Comparison {
	wf := Side{Way: "workflow", Runs: "TicketRouting", Measures: []Measure{
		{WorkflowID: "w1", Outcome: "billing/high → billing", Steps: 6, ModelCalls: 2, Tokens: 500, Wall: 1200 * time.Millisecond, Decisions: 1, Approved: 1, HistoryBytes: 20480},
		{WorkflowID: "w2", Outcome: "billing/high → billing", Steps: 6, ModelCalls: 2, Tokens: 520, Wall: 1000 * time.Millisecond, Decisions: 1, Approved: 1, HistoryBytes: 20480},
		{WorkflowID: "w3", Outcome: "billing/normal → billing", Steps: 5, ModelCalls: 2, Tokens: 480, Wall: 900 * time.Millisecond, HistoryBytes: 18432},
	}}.summarise()
	ag := Side{Way: "agent", Runs: "Agent customer-service", Measures: []Measure{
		{WorkflowID: "a1", Outcome: "finished, used lookup_order", Steps: 20, ModelCalls: 8, Tokens: 9000, Wall: 8 * time.Second, Denied: 1, HistoryBytes: 61440},
		{WorkflowID: "a2", Outcome: "budget, used search_docs", Steps: 30, ModelCalls: 12, Tokens: 12000, Wall: 12 * time.Second, Decisions: 1, Rejected: 1, HistoryBytes: 81920},
		{WorkflowID: "a3", Outcome: "failed", Failed: "the model server is not answering", Steps: 2, ModelCalls: 0, Wall: 2 * time.Second, HistoryBytes: 4096},
	}}.summarise()
	return Comparison{Task: "ticket", Source: "t.json", Model: "m", RunsEach: 3, Sandboxed: true, Answered: "approve", Sides: []Side{wf, ag}}
}

func TestSummaryTakesMediansSpreadAndAgreement(t *testing.T) {
	c := sampleComparison()
	wf, ag := c.Sides[0].Summary, c.Sides[1].Summary
	assert.Equal(t, "billing/high → billing", wf.Outcome)
	assert.InDelta(t, 2.0/3, wf.Agreement, 1e-9)
	assert.Equal(t, Stat{Median: 500, Min: 480, Max: 520}, wf.Tokens)
	assert.Equal(t, Stat{Median: 1, Min: 0.9, Max: 1.2}, wf.WallSecs)
	assert.Equal(t, 2, wf.Decisions)
	assert.Equal(t, "finished, used lookup_order", ag.Outcome, "a three-way tie goes to the first run")
	assert.InDelta(t, 1.0/3, ag.Agreement, 1e-9)
	assert.Equal(t, 1, ag.Failed)
	assert.Equal(t, 1, ag.Denied)
	assert.Equal(t, 1, ag.Rejected)
	assert.Equal(t, Stat{Median: 60, Min: 4, Max: 80}, ag.HistoryKB)
}

func TestTheReportsSayTheSameThing(t *testing.T) {
	c := sampleComparison()
	table := c.table()
	assert.Contains(t, table, "2 of 3 agree (67%)")
	assert.Contains(t, table, "1 of 3 agree (33%)")
	assert.Contains(t, table, "500 (480–520)")
	assert.Contains(t, table, "1 denied, 0 approved, 1 rejected")

	dir := t.TempDir()
	require.NoError(t, c.write(dir))
	md, err := os.ReadFile(filepath.Join(dir, "compare.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| consistency | 2 of 3 agree (67%) | 1 of 3 agree (33%) |")
	assert.Contains(t, string(md), "| agent | a3 | failed: the model server is not answering | 2 | 0 | 0 | 2.0 | 0 | 4.0 |")
	svg, err := os.ReadFile(filepath.Join(dir, "compare.svg"))
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(svg, new(struct{})))
	assert.Contains(t, string(svg), ">8</text>", "the agent's median wall time is drawn")
	assert.Equal(t, 1, strings.Count(string(svg), "<svg"))
}
