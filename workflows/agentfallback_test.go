package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
)

// fallbackRun runs the research profile with a data policy that names a
// fallback model, and a Decide that answers as the model asked says.
func fallbackRun(t *testing.T, answer func(model string) (activities.DecideResult, error)) (AgentResult, []string) {
	rules := policy.Policy{Version: 1, Models: policy.Models{Fallback: []string{"steady"}}}
	env, agent, tools := agentTestEnv(testSettings(&rules), Profiles...)
	env.OnActivity(tools.ReadTool, mock.Anything, mock.Anything).Return(activities.ToolResult{Observation: "found"}, nil).Maybe()
	var asked []string
	env.OnActivity(agent.Decide, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.DecideRequest) (activities.DecideResult, error) {
		asked = append(asked, req.Model)
		res, err := answer(req.Model)
		res.Call.Model = req.Model
		return res, err
	})
	env.ExecuteWorkflow(Agent, AgentInput{Goal: "find the return window", Profile: "research", Model: ModelSettings{Model: "flaky", TaskQueue: "q"}})
	require.NoError(t, env.GetWorkflowError())
	var res AgentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res, asked
}

func TestAStepThatNeverValidatesGoesToTheFallbackModel(t *testing.T) {
	res, asked := fallbackRun(t, func(model string) (activities.DecideResult, error) {
		if model == "flaky" {
			return activities.DecideResult{}, temporal.NewNonRetryableApplicationError("model flaky gave no answer that matches the schema in 3 tries",
				activities.ErrModelInvalidAnswer, nil)
		}
		return step("finish", `{"answer":"30 days","sources":[]}`), nil
	})
	assert.Equal(t, "finished", res.Outcome)
	assert.Equal(t, []string{"flaky", "steady"}, asked, "the same step, on the next model")
	require.Len(t, res.Events, 1)
	assert.Equal(t, "fallback", res.Events[0].Kind)
	assert.Equal(t, "flaky: model flaky gave no answer that matches the schema in 3 tries; the next steps go to steady", res.Events[0].Reason)
	assert.Equal(t, []ModelScore{{Model: "flaky", Asked: 1}, {Model: "steady", Asked: 1, Valid: 1}}, res.Models)
}

func TestInvalidCallsInARowMoveTheAgentToTheFallbackModel(t *testing.T) {
	res, asked := fallbackRun(t, func(model string) (activities.DecideResult, error) {
		if model == "flaky" {
			return step("search_docs", `{"query":"x"}`), nil // limit is missing
		}
		return step("finish", `{"answer":"30 days","sources":[]}`), nil
	})
	assert.Equal(t, "finished", res.Outcome)
	assert.Equal(t, []string{"flaky", "flaky", "steady"}, asked)
	assert.Equal(t, "flaky: 2 invalid tool calls in a row; the next steps go to steady", res.Events[0].Reason)
	assert.Equal(t, []ModelScore{{Model: "flaky", Asked: 2}, {Model: "steady", Asked: 1, Valid: 1}}, res.Models)
}
