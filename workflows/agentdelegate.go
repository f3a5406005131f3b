package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/text"
)

// RunDelegate marks the delegate tool: another profile's agent, run as a
// child workflow on a budget carved out of this run's.
const RunDelegate ToolRun = "delegate"

// DelegateArgs hands a sub-goal to another profile's agent.
type DelegateArgs struct {
	Profile   string `json:"profile"`
	Goal      string `json:"goal"`
	MaxSteps  int    `json:"maxSteps"`
	MaxTokens int    `json:"maxTokens"`
}

// BudgetCap caps a run's budgets below its profile's: the part of a
// parent's budget a delegated agent may use. It only ever lowers them.
type BudgetCap struct {
	MaxSteps  int `json:"maxSteps"`
	MaxTokens int `json:"maxTokens"`
}

var delegateSchema = schema.Object(
	schema.Prop("profile", schema.String("the agent profile to hand the sub-goal to", 60)),
	schema.Prop("goal", schema.String("the sub-goal, with everything the other agent needs to know", 1000)),
	schema.Prop("maxSteps", schema.Integer("steps of your budget to give it", 1, 50)),
	schema.Prop("maxTokens", schema.Integer("tokens of your budget to give it", 1000, 1_000_000)))

// delegateTool starts another profile's agent.
var delegateTool = Tool{Name: "delegate", Description: "Hand a sub-goal to another profile's agent with part of your budget; you get its answer.",
	Args: delegateSchema, Risk: RiskWrite, Run: RunDelegate}

// delegate runs another profile's agent as a child workflow, on the part
// of this run's budget it asks for and no more than is left, within the
// data policy's depth and fan-out; what the child used counts against
// this run's budget, and its answer is the observation.
func (st *AgentState) delegate(ctx workflow.Context, step int, args []byte) (activities.ToolResult, error) {
	var a DelegateArgs
	if err := decodeArgs(args, &a); err != nil {
		return activities.ToolResult{}, err
	}
	limits := runPolicy(ctx).Agent.Delegation
	stepsLeft, tokensLeft := st.Policy.MaxSteps-st.Decisions-1, st.Policy.MaxTokens-st.Tokens
	switch {
	case st.Depth+1 > limits.Depth():
		return refusal("delegation is limited to %d level(s) of agents, and this agent is at level %d; do the work yourself", limits.Depth(), st.Depth), nil
	case st.Delegated >= limits.FanOut():
		return refusal("this run has started %d sub-agents, the most the data policy allows; do the rest yourself", st.Delegated), nil
	case stepsLeft < 1 || tokensLeft < 1000:
		return refusal("too little of the budget is left to give away (%d steps, %d tokens); finish with what you have", stepsLeft, tokensLeft), nil
	}
	within := BudgetCap{MaxSteps: min(a.MaxSteps, stepsLeft), MaxTokens: min(a.MaxTokens, tokensLeft)}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    fmt.Sprintf("%s-step-%d-delegate", st.RunKey, step),
		StaticSummary: fmt.Sprintf("%s agent for agent %s, step %d", a.Profile, st.RunKey, step),
	})
	in := AgentInput{Goal: a.Goal, Profile: strings.TrimSpace(a.Profile), RequestedBy: st.RequestedBy, Model: st.Model,
		Within: &within, Depth: st.Depth + 1}
	st.Delegated++
	var res AgentResult
	if err := workflow.ExecuteChildWorkflow(cctx, AgentName, in).Get(ctx, &res); err != nil {
		return activities.ToolResult{}, err
	}
	st.Decisions += res.Budget.Steps
	st.Tokens += res.Budget.Tokens
	st.ModelCalls += res.ModelCalls
	said := res.Answer
	if said == "" {
		said = res.Reason
	}
	return activities.ToolResult{Observation: text.Shorten(fmt.Sprintf("agent %s %s: %s (it used %d of %d steps and %d of %d tokens)",
		a.Profile, res.Outcome, said, res.Budget.Steps, within.MaxSteps, res.Budget.Tokens, within.MaxTokens), activities.MaxObservation),
		Read: res.Read}, nil
}

func refusal(format string, args ...any) activities.ToolResult {
	return activities.ToolResult{Observation: fmt.Sprintf(format, args...)}
}
