package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/workflows"
)

// TestAnAgentDelegatesASubGoalOnTheRealServers: a lead agent hands a
// sub-goal to a research agent as a child workflow with 2 of its steps;
// the research agent stops within them, and the lead reads its outcome.
func TestAnAgentDelegatesASubGoalOnTheRealServers(t *testing.T) {
	t.Parallel()
	profiles := agentProfile(t, "name: lead\ninstructions: Hand research to the research agent.\n"+
		"tools: [delegate, today]\nbudgets: {maxSteps: 8}\n")
	model := scriptedOllama(t, func(format, last string) string {
		switch {
		case strings.Contains(last, "Goal: find the return window"): // the research agent never finishes
			return `{"thought":"search","action":{"tool":"search_docs","args":{"query":"return window","limit":1}}}`
		case strings.Contains(last, "agent research"):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"delegated","sources":[]}}}`
		}
		return `{"thought":"ask research","action":{"tool":"delegate","args":{"profile":"research","goal":"find the return window","maxSteps":2,"maxTokens":20000}}}`
	})
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model, c.ProfilesDir = model.URL, "scripted", profiles })
	c := td.servers.Client(t)
	run, err := api.NewClient(c, td.cfg.TaskQueue).StartAgent(context.Background(), api.WorkflowID("agent", fmt.Sprintf("lead-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "lead", Goal: "how long is the return window?", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	res, err := run.Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "finished", res.Outcome)
	assert.Equal(t, []string{"delegate(ok)"}, trailOf(res))
	assert.Equal(t, 4, res.Budget.Steps, "the lead's 2 decisions and the research agent's 2")

	var child workflows.AgentResult
	require.NoError(t, c.GetWorkflow(context.Background(), run.ID+"-step-1-delegate", "").Get(context.Background(), &child))
	assert.Equal(t, "budget", child.Outcome)
	assert.Equal(t, 2, child.Budget.MaxSteps, "the research agent ran on the 2 steps carved out for it")
	assert.Equal(t, 2, child.Budget.Steps)
}
