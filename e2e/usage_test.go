package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/workflows"
)

// TestUsageAddsUpKnownRuns runs two ticket routings (one waits for a
// person) and a research agent with a scripted model whose calls report 50
// tokens in and 20 out, on the real Temporal server, then asks
// `starter usage`: it adds them up per kind, per model and per profile.
func TestUsageAddsUpKnownRuns(t *testing.T) {
	t.Parallel()
	td, c := scriptedTandem(t, fmt.Sprintf("usage-%d", time.Now().UnixNano()), func(format, last string) string {
		switch {
		case strings.Contains(format, `"action"`):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"14 days.","sources":[]}}}`
		case strings.Contains(format, `"priority"`) && strings.Contains(last, "URGENT"):
			return `{"category":"billing","priority":"high","sentiment":"neutral","language":"en","summary":"charged twice"}`
		case strings.Contains(format, `"priority"`):
			return `{"category":"billing","priority":"normal","sentiment":"neutral","language":"en","summary":"charged twice"}`
		}
		return "Thank you; we are refunding the duplicate charge."
	})
	ctx := context.Background()
	tc := api.NewClient(c, td.cfg.TaskQueue)
	for i, subject := range []string{"Charged twice", "URGENT: charged twice"} {
		run, err := tc.StartTicketRouting(ctx, api.WorkflowID("ticket-routing", fmt.Sprintf("%s-%d", td.cfg.TaskQueue, i)),
			workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: subject, Body: "Two charges in March.", Customer: "Camille Martin", Channel: "email"}})
		require.NoError(t, err)
		require.NoError(t, waitApproving(ctx, tc, run.Run))
	}
	agent, err := tc.StartAgent(ctx, api.WorkflowID("agent", td.cfg.TaskQueue), workflows.AgentInput{Goal: "How long do refunds take?", Profile: "research"})
	require.NoError(t, err)
	_, err = agent.Result(ctx)
	require.NoError(t, err)

	// Visibility is eventually consistent: the closed runs' usage memos
	// reach it after the runs end, later on a loaded machine.
	var rep api.UsageReport
	var last string
	ok := assert.Eventually(t, func() bool {
		code, out, stderr := td.starter(t, "usage", "--since", "1h", "-o", "json")
		last = out + stderr
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			return false
		}
		return rep.Kinds["ticket-routing"] != nil && rep.Kinds["ticket-routing"].Runs == 2 && rep.Kinds["agent"] != nil &&
			rep.Kinds["ticket-routing"].Decisions == 1 && rep.Kinds["agent"].TokensIn == 50
	}, time.Minute, time.Second, "the runs' usage reaches visibility")
	require.True(t, ok, "the last usage report: %s", last)
	tickets := rep.Kinds["ticket-routing"]
	assert.Equal(t, api.UsageTotals{Runs: 2, TokensIn: 200, TokensOut: 80, ModelTime: tickets.ModelTime, Decisions: 1, Waited: tickets.Waited}, *tickets)
	assert.Positive(t, tickets.Waited, "the urgent ticket waited for a person")
	assert.Equal(t, 1, rep.Kinds["agent"].Runs)
	assert.Equal(t, 20, rep.Kinds["agent"].TokensOut)
	assert.Equal(t, 1, rep.Profiles["research"].Runs)
	assert.Equal(t, api.ModelTotals{Calls: 5, TokensIn: 250, TokensOut: 100, Time: rep.Models["scripted"].Time, Steps: 1, Valid: 1}, *rep.Models["scripted"],
		"the agent's one decision was valid")
	assert.Zero(t, tickets.FailureRate())

	code, out, _ := td.starter(t, "usage", "--since", "1h", "--kind", "ticket-routing")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Runs on task queue "+td.cfg.TaskQueue)
	assert.Regexp(t, `ticket-routing\s+2\s+0%\s+200\s+80`, out)
	assert.Regexp(t, `scripted\s+4\s+200\s+80`, out)
}
