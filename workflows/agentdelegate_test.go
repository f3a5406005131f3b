package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
)

// TestADelegatedAgentStaysWithinItsCarvedBudget: a lead agent hands a
// sub-goal to a helper with 3 of its steps; the helper, which never
// finishes, stops at 3, and the lead's budget pays for them. A helper that
// tries to delegate further is refused past the policy's depth.
func TestADelegatedAgentStaysWithinItsCarvedBudget(t *testing.T) {
	rules := policy.Policy{Version: 1, Agent: policy.AgentRules{Delegation: policy.Delegation{MaxDepth: 1}}}
	profiles := []AgentProfile{
		{Name: "lead", Instructions: "Lead.", Policy: AgentPolicy{Tools: []string{"delegate", "today"}, MaxSteps: 10, MaxTokens: 100_000, Deadline: time.Hour}},
		{Name: "helper", Instructions: "Help.", Policy: AgentPolicy{Tools: []string{"calculate", "delegate"}, MaxSteps: 20, MaxTokens: 100_000, Deadline: time.Hour}},
	}
	env, agent, tools := agentTestEnv(testSettings(&rules), profiles...)
	var (
		mu   sync.Mutex
		seen = map[string][]activities.DecideRequest{}
	)
	env.OnActivity(tools.ReadTool, mock.Anything, mock.Anything).Return(activities.ToolResult{Observation: "2"}, nil)
	env.OnActivity(agent.Decide, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.DecideRequest) (activities.DecideResult, error) {
		mu.Lock()
		defer mu.Unlock()
		seen[req.RunKey] = append(seen[req.RunKey], req)
		n := len(seen[req.RunKey])
		switch {
		case !strings.Contains(req.RunKey, "delegate") && n == 1:
			return step("delegate", `{"profile":"helper","goal":"compute 1+1 well","maxSteps":3,"maxTokens":50000}`), nil
		case !strings.Contains(req.RunKey, "delegate"):
			return step("finish", `{"answer":"the helper tried","sources":[]}`), nil
		case n == 1:
			return step("delegate", `{"profile":"helper","goal":"deeper","maxSteps":1,"maxTokens":1000}`), nil
		}
		return step("calculate", `{"expression":"1+1"}`), nil
	})
	env.ExecuteWorkflow(Agent, AgentInput{Goal: "get it computed", Profile: "lead", Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	require.NoError(t, env.GetWorkflowError())
	var res AgentResult
	require.NoError(t, env.GetWorkflowResult(&res))

	child := "default-test-workflow-id-step-1-delegate"
	require.Len(t, seen[child], 3, "the helper made 3 decisions, its carved budget, though its profile allows 20")
	assert.Contains(t, renderedTurns(seen[child][1]), "delegation is limited to 1 level(s) of agents, and this agent is at level 1")
	lead := seen["default-test-workflow-id"]
	require.Len(t, lead, 2)
	assert.Contains(t, renderedTurns(lead[1]), "agent helper budget: the step budget of 3 is used up (it used 3 of 3 steps and 360 of 50000 tokens)")
	assert.Equal(t, 5, res.Budget.Steps, "the lead's own 2 decisions and the helper's 3")
	assert.Equal(t, 600, res.Budget.Tokens)
}

func renderedTurns(req activities.DecideRequest) string {
	var b strings.Builder
	for _, t := range req.NewTurns {
		b.WriteString(t.Observation + "\n")
	}
	return b.String()
}
