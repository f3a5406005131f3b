package workflows

import (
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
)

// testSettings are the worker settings unit tests run under: model m on
// task queue q, and the data policy p (the built-in default when nil).
func testSettings(p *policy.Policy) *activities.Settings {
	snap, err := policy.Load("", ToolNames())
	if err != nil {
		panic(err)
	}
	if p != nil {
		snap = policy.Snapshot{Hash: p.Hash(), Source: "test", Policy: *p}
	}
	return &activities.Settings{Model: "m", ModelTaskQueue: "q", Policy: snap}
}

// decideAfter sends a decision through the decide Update once delay has
// passed on the workflow clock. The returned pointer holds the validator's
// refusal, if any, once the run has ended.
func decideAfter(env *testsuite.TestWorkflowEnvironment, delay time.Duration, d Decision) *error {
	refused := new(error)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(DecisionUpdate, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { *refused = err },
			OnComplete: func(any, error) {},
		}, d)
	}, delay)
	return refused
}

// statusAfter queries the run's status once delay has passed on the
// workflow clock; the returned status holds the answer once the run has
// ended (the zero status when the query failed).
func statusAfter(env *testsuite.TestWorkflowEnvironment, delay time.Duration) *Status {
	st := new(Status)
	env.RegisterDelayedCallback(func() {
		if val, err := env.QueryWorkflow(StatusQuery); err == nil {
			_ = val.Get(st)
		}
	}, delay)
	return st
}

// agentTestEnv is a test environment for agent runs (and their child
// agents) under settings and profiles: the store takes the frame and the
// turns, and the caller mocks the model and the tools through agent and
// tools.
func agentTestEnv(settings *activities.Settings, profiles ...AgentProfile) (*testsuite.TestWorkflowEnvironment, *activities.Agent, *activities.Tools) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	var (
		store *activities.Store
		agent *activities.Agent
		tools *activities.Tools
	)
	env.RegisterWorkflowWithOptions(Agent, workflow.RegisterOptions{Name: AgentName})
	env.RegisterActivity(settings)
	env.RegisterActivity(&LoadedProfiles{List: profiles})
	env.RegisterActivity(store)
	env.RegisterActivity(agent)
	env.RegisterActivity(tools)
	env.OnActivity(store.SaveAgentFrame, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(store.AppendAgentTurns, mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	return env, agent, tools
}
