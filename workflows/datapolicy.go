package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/sandbox"
)

// DataPolicyMemo is the memo field holding the hash of the data policy a
// run recorded at its start.
const DataPolicyMemo = "dataPolicy"

// beginRun starts a fixed workflow's run of kind: its status Query and
// decide Update, then the data policy it runs under. It returns the context
// the rest of the run uses.
func beginRun(ctx workflow.Context, kind string) (workflow.Context, *decisions, error) {
	d, err := newDecisions(ctx, kind)
	if err != nil {
		return ctx, nil, err
	}
	ctx, _, err = recordDataPolicy(ctx)
	return ctx, d, err
}

// recordDataPolicy records the worker's data policy as the run's snapshot
// (a local activity, so the rules are in the run's history), puts its hash
// in the memo, and sandboxes the run when the policy sandboxes every run. It
// returns the context the rest of the run uses.
func recordDataPolicy(ctx workflow.Context) (workflow.Context, policy.Policy, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		Summary:             "record the data policy",
	})
	var settings *activities.Settings
	var snap policy.Snapshot
	if err := workflow.ExecuteLocalActivity(lctx, settings.DataPolicy).Get(ctx, &snap); err != nil {
		return ctx, policy.Policy{}, err
	}
	memo := map[string]any{DataPolicyMemo: snap.Hash}
	if snap.Policy.Sandbox.Default && !sandbox.InWorkflow(ctx) {
		ctx = sandbox.WorkflowWith(ctx, true)
		memo["sandbox"] = true
		if err := workflow.UpsertTypedSearchAttributes(ctx, SandboxKey.ValueSet(true)); err != nil {
			return ctx, policy.Policy{}, err
		}
	}
	if err := workflow.UpsertMemo(ctx, memo); err != nil {
		return ctx, policy.Policy{}, err
	}
	ctx = workflow.WithValue(ctx, runPolicyHashKey{}, snap.Hash)
	return workflow.WithValue(ctx, runPolicyKey{}, snap.Policy), snap.Policy, nil
}

// runPolicyHashKey holds, in a workflow context, the hash of the data
// policy the run follows.
type runPolicyHashKey struct{}

// WorkerPolicy tells a worker's workflows the hash of the data policy the
// worker enforces now, so that a long-running agent notices, at its next
// step, a policy that changed since it started (a worker restarted with a
// new policy file).
type WorkerPolicy struct {
	interceptor.WorkerInterceptorBase
	Hash func() string
}

// InterceptWorkflow puts the worker's policy hash in each workflow's context.
func (w *WorkerPolicy) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workerPolicyInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, hash: w.Hash}
}

type workerPolicyInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	hash func() string
}

func (w *workerPolicyInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	return w.Next.ExecuteWorkflow(workflow.WithValue(ctx, workerPolicyKey{}, w.hash), in)
}

type workerPolicyKey struct{}

// followPolicyChanges records the run's data policy again when the worker
// now enforces another: the worker's policy hash is a mutable side effect
// (a history marker only when it changes), and a new policy is recorded as
// at the run's start, its hash in the memo. It returns the context the run
// goes on with, and the new policy's hash when there is one ("" when not).
func followPolicyChanges(ctx workflow.Context) (workflow.Context, string, error) {
	var now string
	err := workflow.MutableSideEffect(ctx, "worker-data-policy", func(ctx workflow.Context) any {
		if hash, ok := ctx.Value(workerPolicyKey{}).(func() string); ok {
			return hash()
		}
		return ""
	}, func(a, b any) bool { return a == b }).Get(&now)
	if err != nil || now == "" {
		return ctx, "", err
	}
	if recorded, _ := ctx.Value(runPolicyHashKey{}).(string); now == recorded {
		return ctx, "", nil
	}
	ctx, _, err = recordDataPolicy(ctx)
	if err != nil {
		return ctx, "", err
	}
	recorded, _ := ctx.Value(runPolicyHashKey{}).(string)
	return ctx, recorded, nil
}

// runPolicyKey holds, in a workflow context, the data policy the run
// recorded; it is the same value on replay, read from history.
type runPolicyKey struct{}

// runPolicy is the data policy the run recorded at its start.
func runPolicy(ctx workflow.Context) policy.Policy {
	p, _ := ctx.Value(runPolicyKey{}).(policy.Policy)
	return p
}

// dataAgentRules are the data policy's rules for every agent.
type dataAgentRules = policy.AgentRules

// underDataPolicy narrows an agent's policy by the data policy's agent
// rules: denied tools leave the allowlist, listed tools need a person, and
// the budgets are capped.
func (p AgentPolicy) underDataPolicy(r dataAgentRules) AgentPolicy {
	p.Tools = slices.DeleteFunc(slices.Clone(p.Tools), func(t string) bool {
		return slices.ContainsFunc(r.Deny, func(d string) bool { return policy.MatchTool(d, t) })
	})
	p.NeedApproval = slices.Clone(p.NeedApproval)
	for _, t := range r.RequireApproval {
		if !slices.Contains(p.NeedApproval, t) {
			p.NeedApproval = append(p.NeedApproval, t)
		}
	}
	if r.MaxSteps > 0 && r.MaxSteps < p.MaxSteps {
		p.MaxSteps = r.MaxSteps
	}
	if r.MaxTokens > 0 && r.MaxTokens < p.MaxTokens {
		p.MaxTokens = r.MaxTokens
	}
	return p
}
