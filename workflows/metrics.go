package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/runs"
)

// The metrics workflows record, through the Temporal SDK's metrics handler,
// which records nothing while a workflow replays. Prometheus names add
// _total to counters and _seconds to timers.
const (
	metricRunsStarted    = "tandem_runs_started"         // tag kind
	metricRunsCompleted  = "tandem_runs_completed"       // tag kind
	metricRunsFailed     = "tandem_runs_failed"          // tag kind
	metricDecisionWait   = "tandem_decision_wait"        // timer; tags kind, outcome
	metricAgentSteps     = "tandem_agent_steps"          // tag profile
	metricAgentToolCalls = "tandem_agent_tool_calls"     // tags profile, tool, outcome
	metricAgentDenials   = "tandem_agent_policy_denials" // tags profile, tool
)

// RunMetrics is a worker interceptor that counts runs started, completed
// and failed per kind (a continue-as-new is neither an end nor a start),
// and keeps each run's Usage in its memo when it ends.
type RunMetrics struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow wraps each workflow's execution.
func (*RunMetrics) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &runCounter{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type runCounter struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (r *runCounter) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	usage := &runs.Usage{}
	ctx = workflow.WithValue(ctx, usageKey{}, usage)
	defer func() { _ = workflow.UpsertMemo(ctx, map[string]any{runs.UsageMemo: usage}) }()
	info := workflow.GetInfo(ctx)
	metrics := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": runs.KindOf(info.WorkflowType.Name)})
	if info.ContinuedExecutionRunID == "" {
		metrics.Counter(metricRunsStarted).Inc(1)
	}
	result, err := r.Next.ExecuteWorkflow(ctx, in)
	var continued *workflow.ContinueAsNewError
	switch {
	case err == nil:
		metrics.Counter(metricRunsCompleted).Inc(1)
	case !errors.As(err, &continued):
		metrics.Counter(metricRunsFailed).Inc(1)
	}
	return result, err
}

// usageKey is where a run's Usage is in its workflow context.
type usageKey struct{}

// usedModel counts a model call in the run's usage.
func usedModel(ctx workflow.Context, call activities.ModelCall) {
	if u, ok := ctx.Value(usageKey{}).(*runs.Usage); ok {
		u.AddCall(call)
	}
}

// usedStep counts an agent step a model decided in the run's usage.
func usedStep(ctx workflow.Context, model string, valid bool) {
	if u, ok := ctx.Value(usageKey{}).(*runs.Usage); ok {
		u.AddStep(model, valid)
	}
}

// usedPeople counts the time a run waited for a decision, and the decision
// when a person took it (not its deadline).
func usedPeople(ctx workflow.Context, waited time.Duration, byPerson bool) {
	if u, ok := ctx.Value(usageKey{}).(*runs.Usage); ok {
		u.Waited += waited
		if byPerson {
			u.Decisions++
		}
	}
}

// usedProfile names the agent profile of the run's usage.
func usedProfile(ctx workflow.Context, profile string) {
	if u, ok := ctx.Value(usageKey{}).(*runs.Usage); ok {
		u.Profile = profile
	}
}
