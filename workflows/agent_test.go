package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/runs"
)

// agentSuite runs the agent with a scripted model: each Decide returns the
// next scripted step and records the turns it was sent.
type agentSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env    *testsuite.TestWorkflowEnvironment
	agent  *activities.Agent
	tools  *activities.Tools
	store  *activities.Store
	model  *activities.Model
	mu     sync.Mutex
	script []activities.DecideResult
	sent   []activities.Turn // turns the model was sent, in order
	asked  [][]string        // the allowed tools of each decision
	calls  []activities.ToolCall
}

func TestAgent(t *testing.T) { suite.Run(t, new(agentSuite)) }

func (s *agentSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(s.agent)
	s.env.RegisterActivity(s.tools)
	s.env.RegisterActivity(s.store)
	s.env.RegisterActivity(testSettings(nil))
	s.env.RegisterActivity(&LoadedProfiles{List: Profiles})
	s.env.RegisterActivity(s.model)
	s.script, s.sent, s.asked, s.calls = nil, nil, nil, nil
	s.env.OnActivity(s.store.SaveAgentFrame, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(s.store.AppendAgentTurns, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ string, turns []activities.Turn) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.sent = append(s.sent, turns...)
			return nil
		}).Maybe()
	s.env.OnActivity(s.store.Notify, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(s.agent.Decide, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.DecideRequest) (activities.DecideResult, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.sent = append(s.sent, req.NewTurns...)
			s.asked = append(s.asked, req.Allowed)
			if len(s.script) == 0 {
				return step("finish", `{"answer":"out of script","sources":[]}`), nil
			}
			next := s.script[0]
			s.script = s.script[1:]
			return next, nil
		}).Maybe()
	record := func(_ context.Context, c activities.ToolCall) (activities.ToolResult, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls = append(s.calls, c)
		return activities.ToolResult{Observation: "result of " + c.Name, Read: []string{c.Name + "-source"}}, nil
	}
	s.env.OnActivity(s.tools.ReadTool, mock.Anything, mock.Anything).Return(record).Maybe()
	s.env.OnActivity(s.tools.ApprovalDetails, mock.Anything, mock.Anything).Return(
		func(_ context.Context, c activities.ToolCall) (string, error) {
			return "details of " + c.Name + " " + string(c.Args), nil
		}).Maybe()
	s.env.OnActivity(s.store.ResolveCustomer, mock.Anything, mock.Anything).Return(
		activities.CustomerContact{ID: "C-100", Name: "Camille Martin", Email: "camille.martin@example.com", OnFile: true, MatchedBy: "id"}, nil).Maybe()
	s.env.OnActivity(s.tools.WriteTool, mock.Anything, mock.Anything).Return(record).Maybe()
}

func step(tool, args string) activities.DecideResult {
	return activities.DecideResult{Thought: "next: " + tool, Tool: tool, Args: json.RawMessage(args),
		Call: activities.ModelCall{PromptTokens: 100, OutputTokens: 20}}
}

func (s *agentSuite) play(steps ...activities.DecideResult) { s.script = steps }

func (s *agentSuite) run(in AgentInput) AgentResult {
	if in.Model.Model == "" {
		in.Model = ModelSettings{Model: "m", TaskQueue: "q"}
	}
	s.env.ExecuteWorkflow(Agent, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res AgentResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

func research(goal string) AgentInput { return AgentInput{Goal: goal, Profile: "research"} }

func (s *agentSuite) kinds() []string {
	var out []string
	for _, t := range s.sent {
		out = append(out, t.Kind+":"+t.Tool)
	}
	return out
}

func (s *agentSuite) TestToolsThenFinish() {
	s.play(step("search_docs", `{"query":"refund","limit":2}`), step("read_doc", `{"name":"refund-policy.md"}`),
		step("finish", `{"answer":"30 days","sources":["refund-policy.md"]}`))
	res := s.run(research("How long do customers have to return an item?"))

	s.Equal("finished", res.Outcome)
	s.Equal("30 days", res.Answer)
	s.Equal([]string{"refund-policy.md"}, res.Cited)
	s.Equal([]string{"search_docs-source", "read_doc-source"}, res.Read, "what the scripted tool calls report they read")
	s.Equal([]string{"refund-policy.md"}, res.Unread, "the scripted read_doc read read_doc-source, not what was cited")
	s.Require().Len(res.Trail, 2)
	s.Equal("search_docs", res.Trail[0].Tool)
	s.Equal(3, res.Budget.Steps)
	s.Equal(360, res.Budget.Tokens)
	s.Equal([]string{"tool:search_docs", "tool:read_doc"}, s.kinds(), "each observation reaches the model once")
	s.Equal([]string{"search_docs", "read_doc", "calculate", "today"}, s.asked[0], "the enum is the allowlist")
	s.Equal(1, s.calls[0].Step)
}

func (s *agentSuite) TestAForgedToolIsRefusedInWorkflowCode() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"ok","sources":[]}`))
	res := s.run(research("refund me"))
	s.Equal("finished", res.Outcome)
	s.Empty(s.calls, "nothing ran")
	s.Equal([]PolicyEvent{{Step: 1, Tool: "issue_refund", Kind: "denied", Reason: "tool issue_refund is not allowed for this agent"}}, res.Events)
	s.Equal("denied", res.Trail[0].Outcome)
	s.Equal("denied:issue_refund", s.kinds()[0], "the model sees the refusal")
}

func (s *agentSuite) TestUnknownToolIsRefused() {
	s.play(step("rm_rf", `{}`), step("finish", `{"answer":"ok","sources":[]}`))
	res := s.run(research("x"))
	s.Equal("tool rm_rf is not allowed for this agent", res.Events[0].Reason)
}

func (s *agentSuite) TestInvalidArgumentsBecomeAnObservationThenTheRunEnds() {
	s.play(step("search_docs", `{"query":""}`), step("search_docs", `{"q":"x","limit":1}`), step("read_doc", `{}`))
	res := s.run(research("x"))
	s.Equal("invalid", res.Outcome)
	s.Equal("3 invalid tool calls in a row", res.Reason)
	s.Empty(s.calls)
	s.Require().Len(s.sent, 3)
	s.Equal("invalid", s.sent[0].Kind)
	s.Contains(s.sent[0].Observation, "/query", "the model is told what is wrong")
}

func (s *agentSuite) TestAValidCallResetsTheInvalidCount() {
	s.play(step("read_doc", `{}`), step("read_doc", `{}`), step("today", `{}`), step("read_doc", `{}`), step("read_doc", `{}`),
		step("finish", `{"answer":"done","sources":[]}`))
	res := s.run(research("x"))
	s.Equal("finished", res.Outcome)
	s.Contains(s.sent[2].Observation, "today is ")
}

func (s *agentSuite) TestStepBudget() {
	var steps []activities.DecideResult
	for range 20 {
		steps = append(steps, step("today", `{}`))
	}
	s.play(steps...)
	res := s.run(research("x"))
	s.Equal("budget", res.Outcome)
	s.Equal("the step budget of 8 is used up", res.Reason)
	s.Len(res.Trail, 8)
}

func (s *agentSuite) TestTokenBudget() {
	p := mustProfile("research").Policy
	p.MaxTokens = 250
	s.play(step("today", `{}`), step("today", `{}`), step("today", `{}`))
	res := s.run(AgentInput{Goal: "x", Profile: "research", Policy: &p})
	s.Equal("budget", res.Outcome)
	s.Equal("the token budget of 250 is used up (360 tokens)", res.Reason)
}

func (s *agentSuite) TestDeadline() {
	p := mustProfile("customer-service").Policy
	p.Deadline, p.OnApprovalTimeout = 5*time.Minute, "wait"
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"late","sources":[]}`))
	decideAfter(s.env, 6*time.Minute, Decision{Approve: true, By: "support.lead"})
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service", Policy: &p})
	s.Equal("deadline", res.Outcome)
	s.Equal("the deadline of 5m0s has passed", res.Reason)
	s.Len(s.calls, 1, "the approved call ran; the run ended before the next decision")
}

func (s *agentSuite) TestPerToolBudgetRemovesTheToolFromTheEnum() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"late"}`),
		step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"again"}`),
		step("finish", `{"answer":"refunded","sources":[]}`))
	decideAfter(s.env, time.Minute, Decision{Approve: true, By: "support.lead"})
	res := s.run(AgentInput{Goal: "refund O-1", Profile: "customer-service"})
	s.Len(s.calls, 1)
	s.NotContains(s.asked[1], "issue_refund", "the spent tool leaves the enum")
	s.Equal("tool issue_refund has used its 1 calls", res.Events[len(res.Events)-1].Reason)
}

func (s *agentSuite) TestApprovalApproved() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":59,"reason":"lost parcel"}`), step("finish", `{"answer":"refunded","sources":[]}`))
	decideAfter(s.env, time.Minute, Decision{Approve: true, By: "support.lead"})
	res := s.run(AgentInput{Goal: "refund O-1", Profile: "customer-service"})
	s.Require().Len(s.calls, 1)
	s.Equal("support.lead", s.calls[0].ApprovedBy)
	s.Equal([]PolicyEvent{{Step: 1, Tool: "issue_refund", Kind: "approved", By: "support.lead"}}, res.Events)
	s.Equal("support.lead", res.Trail[0].By)
}

func (s *agentSuite) TestApprovalRejectedTheModelSeesTheReasonAndAdapts() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":59,"reason":"lost"}`),
		step("send_message", `{"customerId":"C-100","subject":"Your parcel","body":"We opened an investigation."}`),
		step("finish", `{"answer":"investigation opened","sources":[]}`))
	decideAfter(s.env, time.Minute, Decision{Approve: false, By: "support.lead", Reason: "wait for the carrier first"})
	decideAfter(s.env, 2*time.Minute, Decision{Approve: true, By: "support.lead"})
	res := s.run(AgentInput{Goal: "help C-100", Profile: "customer-service"})
	s.Equal("rejected:issue_refund", s.kinds()[0])
	s.Equal("support.lead said no: wait for the carrier first. Do not ask for this same call again.", s.sent[0].Observation)
	s.Require().Len(s.calls, 1)
	s.Equal("send_message", s.calls[0].Name)
	s.Equal("finished", res.Outcome)
}

func (s *agentSuite) TestApprovalWithEditedArguments() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":590,"reason":"lost"}`), step("finish", `{"answer":"ok","sources":[]}`))
	bad := decideAfter(s.env, time.Minute, Decision{Approve: true, By: "support.lead", Edit: `{"orderId":"O-1"}`})
	decideAfter(s.env, 2*time.Minute, Decision{Approve: true, By: "support.lead", Edit: `{"orderId":"O-1","amount":59,"reason":"lost"}`})
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service"})
	s.Require().Error(*bad)
	s.Contains((*bad).Error(), "the edit is not valid")
	s.Require().Len(s.calls, 1)
	s.JSONEq(`{"orderId":"O-1","amount":59,"reason":"lost"}`, string(s.calls[0].Args))
	s.Equal("edited", res.Events[0].Kind)
}

func (s *agentSuite) TestApprovalTimesOutAndIsDenied() {
	p := mustProfile("customer-service").Policy
	p.OnApprovalTimeout, p.ApprovalTimeout = "deny", 10*time.Minute
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"no refund","sources":[]}`))
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service", Policy: &p})
	s.Empty(s.calls)
	s.Equal(PolicyEvent{Step: 1, Tool: "issue_refund", Kind: "rejected", By: "deadline", Reason: "no decision within 10m0s"}, res.Events[0])
}

func (s *agentSuite) TestApprovalTimeoutEscalates() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"ok","sources":[]}`))
	late := decideAfter(s.env, 16*time.Minute, Decision{Approve: true, By: "support.lead"})
	decideAfter(s.env, 17*time.Minute, Decision{Approve: true, By: "support.manager"})
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service"})
	s.EqualError(*late, "support.lead may not decide this; one of support.manager may")
	s.Equal("support.manager", res.Events[0].By)
}

func (s *agentSuite) TestAChatMessageReachesTheModel() {
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"ok","sources":[]}`))
	var refused error
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(MessageUpdate, "", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { refused = err },
			OnComplete: func(any, error) {}}, AgentMessage{From: "alice", Text: "the customer is premium"})
	}, 30*time.Second)
	decideAfter(s.env, time.Minute, Decision{Approve: true, By: "support.lead"})
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service"})
	s.NoError(refused)
	s.Equal("finished", res.Outcome)
	s.Equal([]string{"message:", "tool:issue_refund"}, s.kinds(), "the message, then the tool's result, reach the model")
	s.Equal("alice", s.sent[0].From)
	s.Equal("the customer is premium", s.sent[0].Observation)
	s.Equal([]int{1, 2}, []int{s.sent[0].Step, s.sent[1].Step})
}

func (s *agentSuite) TestAnEmptyMessageIsRefused() {
	s.play(step("finish", `{"answer":"ok","sources":[]}`))
	var refused error
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(MessageUpdate, "", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { refused = err },
			OnComplete: func(any, error) {}}, AgentMessage{From: "alice", Text: "  "})
	}, 0)
	s.run(research("x"))
	s.EqualError(refused, "the message is empty")
}

func (s *agentSuite) TestContinueAsNewCarriesACompactedTranscript() {
	compacting := activities.DecideResult{NeedsCompaction: true, PromptTokens: 3500}
	s.play(step("today", `{}`), compacting)
	var compactReq activities.CompactRequest
	s.env.OnActivity(s.agent.Compact, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.CompactRequest) (activities.CompactResult, error) {
			compactReq = req
			return activities.CompactResult{Summary: "looked up the date", UpTo: 1}, nil
		}).Once()
	s.env.ExecuteWorkflow(Agent, research("x"))
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can), "got %v", s.env.GetWorkflowError())
	s.Equal(AgentName, can.WorkflowType.Name)
	var next AgentInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.State)
	s.Equal("looked up the date", next.State.Summary)
	s.Equal(1, next.State.Decisions, "the compaction request is not a step")
	s.Equal(4, compactReq.Keep)
	s.Equal("default-test-workflow-id", next.State.RunKey)

	// The next run picks up where this one stopped.
	s.SetupTest()
	s.env.SetContinuedExecutionRunID("default-test-run-id")
	s.play(step("finish", `{"answer":"done","sources":[]}`))
	res := s.run(next)
	s.Equal("finished", res.Outcome)
	s.Equal(1, res.Runs)
	s.Equal(2, res.Budget.Steps)
}

func (s *agentSuite) TestAPromptThatStillDoesNotFitEndsTheRun() {
	s.play(activities.DecideResult{NeedsCompaction: true, PromptTokens: 5000})
	s.env.SetContinuedExecutionRunID("previous-run")
	st := &AgentState{RunKey: "default-test-workflow-id", Model: ModelSettings{Model: "m", TaskQueue: "q"}, Policy: mustProfile("research").Policy.withDefaults(),
		StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), CallsPerTool: map[string]int{}, CompactedAt: 0, LastKeep: 0}
	s.env.SetStartTime(st.StartedAt)
	s.env.OnActivity(s.agent.Compact, mock.Anything, mock.Anything).Return(activities.CompactResult{Summary: "s"}, nil).Maybe()
	in := research("x")
	in.State = st
	res := s.run(in)
	s.Equal("context", res.Outcome)
	s.Contains(res.Reason, "even with every turn summarised")
}

func (s *agentSuite) TestAPromptThatStillDoesNotFitIsCompactedHarderOnce() {
	s.play(activities.DecideResult{NeedsCompaction: true, PromptTokens: 5000})
	var keep int
	s.env.OnActivity(s.agent.Compact, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.CompactRequest) (activities.CompactResult, error) {
			keep = req.Keep
			return activities.CompactResult{Summary: "s"}, nil
		}).Once()
	in := research("x")
	s.env.SetContinuedExecutionRunID("previous-run")
	in.State = &AgentState{RunKey: "default-test-workflow-id", Model: ModelSettings{Model: "m", TaskQueue: "q"}, Policy: mustProfile("research").Policy.withDefaults(),
		StartedAt: time.Now(), CallsPerTool: map[string]int{}, CompactedAt: 0, LastKeep: 4}
	s.env.SetStartTime(in.State.StartedAt)
	s.env.ExecuteWorkflow(Agent, in)
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &can))
	s.Equal(0, keep, "every turn goes into the summary")
}

func (s *agentSuite) TestAChildWorkflowTool() {
	s.env.RegisterWorkflowWithOptions(TicketRouting, workflow.RegisterOptions{Name: TicketRoutingName})
	s.env.OnWorkflow(TicketRoutingName, mock.Anything, mock.Anything).Return(TicketRoutingResult{
		Classification: TicketClassification{Category: "shipping", Priority: "normal"},
		Route:          Route{Queue: "logistics", SLAMinutes: 1440}, Review: &TicketReview{Sent: true}}, nil)
	s.play(step("route_ticket", `{"subject":"Parcel","body":"Where is it?","customer":"Camille","channel":"web"}`),
		step("finish", `{"answer":"routed","sources":[]}`))
	res := s.run(AgentInput{Goal: "handle this", Profile: "operations"})
	s.Equal("finished", res.Outcome)
	s.Equal("ticket classified shipping/normal, routed to logistics (SLA 1440 min), reply sent", s.sent[0].Observation)
	s.Contains(res.Read, TicketRoutingName)
}

func (s *agentSuite) TestBadInputFailsWithASentence() {
	for in, want := range map[*AgentInput]string{
		{Goal: "", Profile: "research"}:    "the agent needs a goal, or vars for its profile's goal template",
		{Goal: "x", Profile: "astrologer"}: `agent profile "astrologer" is not one of customer-service, marketing-campaign, operations, research`,
		{Goal: "x", Profile: "research", Policy: &AgentPolicy{Tools: []string{"launch_rocket"}}}: `the policy names tool "launch_rocket", which is not in the catalogue`,
		{Goal: "x", Profile: "research", State: &AgentState{RunKey: "default-test-workflow-id"}}: ErrForeignState.Error(),
	} {
		s.SetupTest()
		s.env.ExecuteWorkflow(Agent, *in)
		var appErr *temporal.ApplicationError
		s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr))
		s.Equal(want, appErr.Message())
	}
}

func (s *agentSuite) TestTheQueryShowsTranscriptPendingApprovalAndBudget() {
	s.play(step("today", `{}`), step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"ok","sources":[]}`))
	var view AgentView
	s.env.RegisterDelayedCallback(func() {
		val, err := s.env.QueryWorkflow(AgentQuery)
		s.Require().NoError(err)
		s.Require().NoError(val.Get(&view))
	}, time.Minute)
	decideAfter(s.env, 2*time.Minute, Decision{Approve: false, By: "support.lead", Reason: "no"})
	s.run(AgentInput{Goal: "refund", Profile: "customer-service"})
	s.Require().NotNil(view.Pending)
	s.True(strings.HasPrefix(view.Pending.Question, "Allow issue_refund"))
	s.Equal([]string{"support.lead"}, view.Pending.Approvers)
	s.Equal(2, view.Budget.Steps)
	s.Equal([]ToolCount{{Tool: "today", Calls: 1}}, view.Budget.Calls)
	s.Require().Len(view.Recent, 1)
	s.Equal("today", view.Recent[0].Tool)
}

// TestACallerCannotWidenTheProfilesPolicy replays the attack of a start
// request that lists refunds without approval, names its own approver and
// lifts the budgets: each widening is refused with a sentence before any
// step runs.
func (s *agentSuite) TestACallerCannotWidenTheProfilesPolicy() {
	for _, c := range []struct {
		policy AgentPolicy
		want   string
	}{
		{AgentPolicy{Tools: []string{"search_docs", "issue_refund"}},
			"the run asks for tool issue_refund, which the profile does not allow; a run may narrow its agent's tools, never add to them"},
		{AgentPolicy{Approvers: []string{"mallory"}},
			"the run names approvers mallory; approvers come from the agent profile and the worker's data policy, never from a run"},
		{AgentPolicy{MaxSteps: -1}, "maxSteps is -1; give a positive number, or leave it out for the profile's"},
		{AgentPolicy{MaxSteps: 100}, "the run asks for maxSteps 100, over the profile's 8; a run may narrow its agent's powers, never widen them"},
		{AgentPolicy{MaxTokens: 1 << 30}, "the run asks for maxTokens 1073741824, over the profile's 30000; a run may narrow its agent's powers, never widen them"},
		{AgentPolicy{Deadline: 48 * time.Hour}, "the run asks for a deadline of 48h0m0s, over the profile's 10m0s; a run may narrow its agent's powers, never widen them"},
	} {
		s.SetupTest()
		s.env.ExecuteWorkflow(Agent, AgentInput{Goal: "x", Profile: "research", Policy: &c.policy})
		var appErr *temporal.ApplicationError
		s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr), "policy %+v", c.policy)
		s.Equal(c.want, appErr.Message())
		s.Empty(s.calls)
	}
	// The customer-service profile's approvals stay when a run lists no
	// approvals of its own, and an emptied list cannot remove them.
	s.SetupTest()
	s.play(step("issue_refund", `{"orderId":"O-1","amount":5,"reason":"x"}`), step("finish", `{"answer":"no refund","sources":[]}`))
	decideAfter(s.env, time.Minute, Decision{Approve: false, By: "support.lead", Reason: "no"})
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service", Policy: &AgentPolicy{NeedApproval: []string{}, MaxSteps: 3}})
	s.Empty(s.calls, "the refund waited for a person, who said no")
	s.Equal("rejected", res.Events[0].Kind)
	s.Equal(3, res.Budget.MaxSteps)
}

// TestARunNarrowsItsProfile keeps a subset of the tools and lowers a
// budget: the model is offered only what is left.
func (s *agentSuite) TestARunNarrowsItsProfile() {
	s.play(step("search_docs", `{"query":"refund"}`), step("finish", `{"answer":"done","sources":[]}`))
	res := s.run(AgentInput{Goal: "x", Profile: "customer-service",
		Policy: &AgentPolicy{Tools: []string{"search_docs", "read_doc"}, NeedApproval: []string{"read_doc"}, MaxSteps: 4}})
	s.Equal("finished", res.Outcome)
	s.Equal([]string{"search_docs", "read_doc"}, s.asked[0])
	s.Equal(4, res.Budget.MaxSteps)
}

// TestARejectedCallIsNotAskedAgain: the same call with the same arguments
// is refused without asking anyone, and the model is told why; the
// approver saw the call's details.
func (s *agentSuite) TestARejectedCallIsNotAskedAgain() {
	refund := `{"orderId":"O-1","amount":59,"reason":"lost"}`
	s.play(step("issue_refund", refund), step("issue_refund", `{"reason":"lost","amount":59,"orderId":"O-1"}`),
		step("finish", `{"answer":"no refund","sources":[]}`))
	asked := statusAfter(s.env, 30*time.Second)
	decideAfter(s.env, time.Minute, Decision{Approve: false, By: "support.lead", Reason: "not without the carrier's answer"})
	res := s.run(AgentInput{Goal: "refund", Profile: "customer-service", Policy: &AgentPolicy{MaxCallsPerTool: map[string]int{"issue_refund": 1}}})
	pending := asked.Pending
	s.Require().NotNil(pending)
	s.Equal("details of issue_refund "+refund, pending.Details)
	s.Empty(s.calls)
	s.Require().Len(res.Events, 2, "one rejection by a person, one refusal by the run")
	s.Equal("rejected", res.Events[0].Kind)
	s.Equal("denied", res.Events[1].Kind)
	s.Contains(res.Events[1].Reason, "this exact issue_refund call was rejected earlier in this run (support.lead said no: not without the carrier's answer)")
}

// TestADraftAddressesTheCustomerByName: draft_message gives the model the
// customer's name from their record.
func (s *agentSuite) TestADraftAddressesTheCustomerByName() {
	var prompt string
	s.env.OnActivity(s.model.Chat, mock.Anything, mock.Anything).Return(func(_ context.Context, r activities.ChatRequest) (activities.ChatResult, error) {
		prompt = r.Messages[1].Content
		return activities.ChatResult{Text: "Dear Camille, ..."}, nil
	}).Once()
	s.play(step("draft_message", `{"customerId":"C-100","about":"the parcel is found"}`), step("finish", `{"answer":"drafted","sources":[]}`))
	s.run(AgentInput{Goal: "x", Profile: "customer-service"})
	s.Equal("To Camille Martin (customer C-100). It must say: the parcel is found", prompt)
}

func mustProfile(name string) AgentProfile {
	p, err := ProfileNamed(name)
	if err != nil {
		panic(err)
	}
	return p
}

// TestAnApprovalIsBoundToWhatWasReviewed: a decision carrying the hash of
// a call that no longer waits is refused; one with the hash of what waits
// is taken; --always lets the tool through for the rest of the run, and the
// events record it.
func (s *agentSuite) TestAnApprovalIsBoundToWhatWasReviewed() {
	first, second := `{"expression":"1+1"}`, `{"expression":"100*100"}`
	s.play(step("calculate", first), step("calculate", second), step("calculate", `{"expression":"2+2"}`),
		step("finish", `{"answer":"computed","sources":[]}`))
	hash := func(args string) string {
		return runs.DecisionHash(fmt.Sprintf("Allow calculate %s? The agent says: next: calculate", args), "details of calculate "+args)
	}
	reviewed := statusAfter(s.env, 30*time.Second)
	decideAfter(s.env, time.Minute, Decision{Approve: false, By: "supervisor", Reason: "not that", Hash: hash(first)})
	stale := decideAfter(s.env, 2*time.Minute, Decision{Approve: true, By: "supervisor", Hash: hash(first)})
	decideAfter(s.env, 3*time.Minute, Decision{Approve: true, By: "supervisor", Hash: hash(second), Always: true})
	res := s.run(AgentInput{Goal: "compute", Profile: "research", Policy: &AgentPolicy{NeedApproval: []string{"calculate"}}})

	s.Require().NotNil(reviewed.Pending)
	s.Equal(hash(first), reviewed.Pending.Hash, "the status shows what a decision is bound to")
	s.Require().Error(*stale, "an approval of the first call does not approve the second")
	s.Contains((*stale).Error(), "this decision is about "+hash(first)[:19]+", which no longer waits")
	s.Require().Len(s.calls, 2, "the second call, and the third without asking")
	s.Equal("supervisor", s.calls[0].ApprovedBy)
	s.Equal("supervisor (always)", s.calls[1].ApprovedBy)
	s.Equal("approved for the rest of the run", res.Events[1].Kind)
}
