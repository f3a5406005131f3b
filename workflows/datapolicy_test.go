package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/sandbox"
)

func defaultPolicy() policy.Policy { return testSettings(nil).Policy.Policy }

func snapshotOf(p policy.Policy) policy.Snapshot {
	return policy.Snapshot{Hash: p.Hash(), Source: "test", Policy: p}
}

func (s *agentSuite) TestTheDataPolicyDeniesAToolEvenWhenTheModelForgesIt() {
	p := defaultPolicy()
	p.Agent.Deny = []string{"search_docs"}
	var settings *activities.Settings
	s.env.OnActivity(settings.DataPolicy, mock.Anything).Return(snapshotOf(p), nil)
	s.play(step("search_docs", `{"query":"refund","limit":2}`), step("finish", `{"answer":"no","sources":[]}`))
	res := s.run(research("How long do customers have to return an item?"))

	s.Equal([]string{"read_doc", "calculate", "today"}, s.asked[0], "a denied tool is not offered to the model")
	s.Empty(s.calls, "the forged call did not run")
	s.Equal([]PolicyEvent{{Step: 1, Tool: "search_docs", Kind: "denied", Reason: "tool search_docs is not allowed for this agent"}}, res.Events)
}

func (s *agentSuite) TestTheDataPolicyPutsAToolBehindApprovalAndCapsTheBudget() {
	p := defaultPolicy()
	p.Agent.RequireApproval = []string{"search_docs"}
	p.Agent.MaxSteps = 2
	var settings *activities.Settings
	s.env.OnActivity(settings.DataPolicy, mock.Anything).Return(snapshotOf(p), nil)
	refused := decideAfter(s.env, time.Minute, Decision{Approve: false, By: "supervisor", Reason: "not now"})
	s.play(step("search_docs", `{"query":"refund","limit":2}`), step("read_doc", `{"name":"a.md"}`), step("read_doc", `{"name":"b.md"}`))
	res := s.run(research("x"))

	s.Require().NoError(*refused)
	s.Require().Len(s.calls, 1, "search_docs waited for a person, who said no")
	s.Equal("read_doc", s.calls[0].Name)
	s.Equal(PolicyEvent{Step: 1, Tool: "search_docs", Kind: "rejected", By: "supervisor", Reason: "not now"}, res.Events[0])
	s.Equal("budget", res.Outcome, "the data policy's two steps, not the profile's eight")
	s.Equal(2, res.Budget.Steps)
}

func (s *ticketRoutingSuite) TestAPolicyThatSandboxesEveryRunSandboxesItsSideEffects() {
	s.SetContextPropagators([]workflow.ContextPropagator{sandbox.Propagator{}})
	defer s.SetContextPropagators(nil)
	s.SetupTest()
	p := defaultPolicy()
	p.Sandbox.Default = true
	var settings *activities.Settings
	s.env.OnActivity(settings.DataPolicy, mock.Anything).Return(snapshotOf(p), nil)
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).Return(classification("billing", "low"), nil)
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).Return(draft("Hello"), nil)
	var sandboxed bool
	s.env.OnActivity(s.store.SaveTicket, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.RoutedTicket) error {
		sandboxed = sandbox.On(ctx)
		return nil
	}).Once()
	s.env.ExecuteWorkflow(TicketRouting, testInput())
	s.Require().NoError(s.env.GetWorkflowError())
	s.True(sandboxed, "the store activity ran sandboxed")
}
