package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// Temporal's tracing interceptor makes a run's RunWorkflow span when the
// workflow function starts, replaying or not, and ends it when the function
// returns. A worker that replays a closed run (a replayer, a query on an
// evicted run) would send that span again. ReplayMarker marks such a span,
// and dropReplays keeps it from the exporter.

// spanKey is where the tracing interceptor keeps a workflow's span in its
// context, so that ReplayMarker can find it.
type spanKey struct{}

// replayed marks a span made while replaying history.
const replayed = attribute.Key("tandem.replayed")

// ReplayMarker is a worker interceptor, inside Temporal's tracing one, that
// marks the RunWorkflow span of an execution that ends in replay.
type ReplayMarker struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow wraps each workflow's execution.
func (*ReplayMarker) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &replayMarker{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type replayMarker struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (r *replayMarker) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	result, err := r.Next.ExecuteWorkflow(ctx, in)
	if workflow.IsReplaying(ctx) {
		if span, ok := ctx.Value(spanKey{}).(interface{ SetAttributes(...attribute.KeyValue) }); ok {
			span.SetAttributes(replayed.Bool(true))
		}
	}
	return result, err
}

// dropReplays passes every ended span on but those marked replayed.
type dropReplays struct {
	sdktrace.SpanProcessor
}

func (d dropReplays) OnEnd(s sdktrace.ReadOnlySpan) {
	for _, a := range s.Attributes() {
		if a.Key == replayed && a.Value.AsBool() {
			return
		}
	}
	d.SpanProcessor.OnEnd(s)
}
