package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

type agentLine struct {
	WorkflowID string                     `json:"workflowId"`
	Pending    *workflows.PendingDecision `json:"pending"`
	Result     *workflows.AgentResult     `json:"result"`
}

// runAgentThroughStarter starts an agent with the starter and, whenever it
// waits for an approval, answers with decide (a starter command line), until
// the run ends. It returns the run's id and result.
func runAgentThroughStarter(t *testing.T, td *tandem, profile string, maxSteps int, goal string, decide func(id string) []string) (string, workflows.AgentResult) {
	t.Helper()
	code, stdout, stderr := td.starter(t, "agent", "-o", "json", "--profile", profile, "--max-steps", strconv.Itoa(maxSteps), goal)
	require.Equal(t, 0, code, stderr)
	var id string
	for range 20 {
		var last agentLine
		for _, l := range jsonLines[agentLine](t, stdout) {
			if l.WorkflowID != "" {
				id = l.WorkflowID
			}
			if l.Pending != nil || l.Result != nil {
				last = l
			}
		}
		if last.Result != nil {
			return id, *last.Result
		}
		require.NotNil(t, last.Pending, "the starter stops only at the end or at an approval: %s", stdout)
		code, _, stderr = td.starter(t, decide(id)...)
		require.Equal(t, 0, code, stderr)
		code, stdout, stderr = td.starter(t, "status", "-o", "json", "--wait", id)
		require.Equal(t, 0, code, stderr)
		stdout = strings.ReplaceAll(stdout, `"status":`, `"statusView":`)
		var st struct {
			Result     *workflows.AgentResult `json:"result"`
			StatusView workflows.Status       `json:"statusView"`
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &st))
		if st.Result != nil {
			return id, *st.Result
		}
		stdout = mustJSON(t, agentLine{WorkflowID: id, Pending: st.StatusView.Pending})
	}
	t.Fatal("the agent did not end after 20 decisions")
	return "", workflows.AgentResult{}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// assertPolicyHeld checks what must hold whatever the random model chose:
// the run ended by finish or a stated budget, every executed step used an
// allowed tool with arguments valid for its schema, and the history holds
// only model decisions and the tools' own activities.
func assertPolicyHeld(t *testing.T, td *tandem, id, profile string, res workflows.AgentResult) {
	t.Helper()
	assert.Contains(t, []string{"finished", "budget", "deadline", "invalid", "context"}, res.Outcome)
	assert.NotEmpty(t, res.Reason)
	p, err := workflows.ProfileNamed(profile)
	require.NoError(t, err)
	for _, step := range res.Trail {
		if step.Outcome != "ok" && step.Outcome != "failed" {
			continue
		}
		assert.Contains(t, p.Policy.Tools, step.Tool, "step %d ran an allowed tool", step.Step)
		tool := toolSchema(t, step.Tool)
		assert.NoError(t, schema.Validate(tool, step.Args), "step %d ran %s with valid arguments", step.Step, step.Tool)
		if slices.Contains(p.Policy.NeedApproval, step.Tool) {
			assert.NotEmpty(t, step.By, "step %d ran %s only after approval", step.Step, step.Tool)
		}
	}
	c := td.servers.Client(t)
	allowed := []string{"SaveAgentFrame", "Decide", "Compact", "Chat", "WriteTool", "Notify", "AppendAgentTurns"}
	runs, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = '%s'", id)})
	require.NoError(t, err)
	require.Len(t, runs.GetExecutions(), res.Runs+1, "one execution per continue-as-new")
	decides := 0
	for _, run := range runs.GetExecutions() {
		iter := c.GetWorkflowHistory(context.Background(), id, run.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				assert.Contains(t, allowed, a.GetActivityType().GetName())
				if a.GetActivityType().GetName() == "Decide" {
					decides++
				}
			}
		}
	}
	// One model activity per step, plus one for each time the prompt did not
	// fit: each compaction, and the final one when it still did not.
	assert.GreaterOrEqual(t, decides, res.Budget.Steps)
	assert.LessOrEqual(t, decides, res.Budget.Steps+res.Runs+1)
}

func toolSchema(t *testing.T, name string) json.RawMessage {
	for _, tool := range workflows.Catalogue {
		if tool.Name == name {
			return tool.Args
		}
	}
	t.Fatalf("no tool %s", name)
	return nil
}

// TestResearchAgentOnTheRealModel runs the research profile with the test
// model, its steps narrowed by the starter: it must end by finish or a
// stated budget, with every executed step allowed and valid. A run may not
// widen its profile's budget.
func TestResearchAgentOnTheRealModel(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	code, _, stderr := td.starter(t, "agent", "--profile", "research", "--max-steps", "99", "How long?")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "the run asks for maxSteps 99, over the profile's 8; a run may narrow its agent's powers, never widen them")

	id, res := runAgentThroughStarter(t, td, "research", 3, "How long do customers have to return an item?", nil)
	assert.Equal(t, 3, res.Budget.MaxSteps, "the starter narrowed the profile's 8 steps")
	assert.LessOrEqual(t, res.Budget.Steps, 3)
	t.Logf("research agent: %s (%s), %d steps, %d runs, %d model calls, %s", res.Outcome, res.Reason, res.Budget.Steps, res.Runs, res.ModelCalls, res.Budget.Elapsed)
	assertPolicyHeld(t, td, id, "research", res)
	assert.NotEmpty(t, res.Trail)
	if dir := recordDir(); dir != "" && res.Runs == 0 {
		recordHistory(t, td.servers.Client(t), id, "", dir+"/agent-research.json")
	}
}

// TestCustomerServiceAgentRejectedApprovalsAreNeverCarriedOut runs the
// customer-service profile and rejects every approval it asks for: nothing
// it asked for may happen, and it must see why.
func TestCustomerServiceAgentRejectedApprovalsAreNeverCarriedOut(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	rejected := 0
	id, res := runAgentThroughStarter(t, td, "customer-service", 4, "Camille Martin's lamp (order O-20931) never arrived. Resolve it.",
		func(id string) []string {
			rejected++
			return []string{"reject", id, "--by", "support.lead", "--reason", "not before the carrier confirms the loss"}
		})
	t.Logf("customer-service agent: %s (%s), %d steps, %d runs, %d rejected", res.Outcome, res.Reason, res.Budget.Steps, res.Runs, rejected)
	assertPolicyHeld(t, td, id, "customer-service", res)
	kinds := 0
	for _, e := range res.Events {
		if e.Kind == "rejected" {
			kinds++
			assert.Equal(t, "support.lead", e.By)
			assert.Equal(t, "not before the carrier confirms the loss", e.Reason)
		}
	}
	assert.Equal(t, rejected, kinds)
	if dir := recordDir(); dir != "" && res.Runs == 0 {
		recordHistory(t, td.servers.Client(t), id, "", dir+"/agent-customer-service.json")
	}

	var refunds, sent int
	storetest.Scan(t, td.db, `SELECT count(*) FROM refunds`, nil, &refunds)
	storetest.Scan(t, td.db, `SELECT count(*) FROM outbox WHERE workflow_id = ? AND recipients LIKE '%@%'`, []any{id}, &sent)
	assert.Zero(t, refunds, "a rejected refund never happens")
	assert.Zero(t, sent, "a rejected message is never sent")
}

func recordDir() string { return strings.TrimSpace(os.Getenv("TANDEM_RECORD_HISTORY")) }
