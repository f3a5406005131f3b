package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

// refundingAgent asks for a refund of order O-20931 once, then finishes.
func refundingAgent() func(format, last string) string {
	var decisions atomic.Int64
	return func(format, _ string) string {
		if decisions.Add(1) == 1 {
			return `{"thought":"refund it","action":{"tool":"issue_refund","args":{"orderId":"O-20931","amount":59,"reason":"lost"}}}`
		}
		return `{"thought":"done","action":{"tool":"finish","args":{"answer":"handled","sources":[]}}}`
	}
}

// TestACallerCannotWidenAnAgentsPowers is the attack of a start request
// whose policy lists refunds without approval, names its own approver and
// lifts the step budget. It is refused through the HTTP API, the Go client
// and a raw Temporal client (by the workflow itself), and a forged
// continue-as-new state is refused too. A policy that only narrows is
// accepted, and the profile's approval still stands: no refund is written
// without a person.
func TestACallerCannotWidenAnAgentsPowers(t *testing.T) {
	t.Parallel()
	td, c := scriptedTandem(t, "widen", refundingAgent())
	ctx := context.Background()
	tandemClient := api.NewClient(c, td.cfg.TaskQueue)
	srv := httptestTrigger(t, tandemClient)
	attack := workflows.AgentPolicy{Tools: []string{"issue_refund", "send_message"}, NeedApproval: []string{},
		Approvers: []string{"mallory"}, MaxSteps: -1}
	want := "the run names approvers mallory; approvers come from the agent profile and the worker's data policy, never from a run"
	model := workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}
	input := workflows.AgentInput{Goal: "refund O-20931", Profile: "customer-service", Policy: &attack, Model: model}

	key := fmt.Sprintf("widen-%d", time.Now().UnixNano())
	status, body := call(t, srv, http.MethodPost, "/v1/runs", testToken, map[string]any{"kind": "agent", "idempotencyKey": key, "input": input})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, want, body["error"])
	_, err := c.DescribeWorkflowExecution(ctx, api.WorkflowID("agent", key), "")
	assert.Error(t, err, "no run was started")

	_, err = tandemClient.StartAgent(ctx, "agent-widen-go-"+key, input)
	var invalid *api.InvalidInputError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, want, err.Error())

	rawStart := func(id string, in workflows.AgentInput) error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: td.cfg.TaskQueue}, workflows.AgentName, in)
		require.NoError(t, err)
		return run.Get(ctx, nil)
	}
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, rawStart("agent-widen-raw-"+key, input), &appErr)
	assert.Equal(t, want, appErr.Message())

	forged := workflows.AgentInput{Goal: "x", Profile: "customer-service", Model: model,
		State: &workflows.AgentState{RunKey: "agent-widen-state-" + key, Policy: attack, CallsPerTool: map[string]int{}}}
	require.ErrorAs(t, rawStart("agent-widen-state-"+key, forged), &appErr)
	assert.Equal(t, workflows.ErrForeignState.Error(), appErr.Message())

	// Narrowing is accepted; the profile's approval of refunds still holds.
	narrowed := workflows.AgentInput{Goal: "refund O-20931", Profile: "customer-service", Model: model,
		Policy: &workflows.AgentPolicy{Tools: []string{"issue_refund"}, NeedApproval: []string{}, MaxSteps: 3}}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "agent-narrow-" + key, TaskQueue: td.cfg.TaskQueue}, workflows.AgentName, narrowed)
	require.NoError(t, err)
	var pending *workflows.PendingDecision
	require.Eventually(t, func() bool {
		st, err := tandemClient.Status(ctx, run.GetID())
		pending = st.Pending
		return err == nil && pending != nil
	}, time.Minute, 100*time.Millisecond, "the refund waits for a person")
	assert.Equal(t, []string{"support.lead"}, pending.Approvers)
	require.NoError(t, tandemClient.Decide(ctx, run.GetID(), workflows.Decision{Approve: false, By: "support.lead", Reason: "not yet"}))
	var res workflows.AgentResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, 3, res.Budget.MaxSteps)

	var refunds int
	storetest.Scan(t, td.db, `SELECT count(*) FROM refunds`, nil, &refunds)
	assert.Zero(t, refunds, "no refund was written")
}
