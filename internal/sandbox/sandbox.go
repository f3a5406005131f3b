// Package sandbox carries a run's sandbox flag from the client that starts
// it, through the workflow, to every activity and child workflow, in
// Temporal headers. In a sandboxed run, side-effecting activities (ledger
// postings, outbox sends, refunds, balance updates, stored records) record
// what they would have done instead of doing it, so security rules can be
// tried before production.
package sandbox

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

const header = "tandem-sandbox"

type key struct{}

// With returns a context whose runs, started from it, are sandboxed.
func With(ctx context.Context, on bool) context.Context {
	return context.WithValue(ctx, key{}, on)
}

// On reports whether the activity or client context is sandboxed.
func On(ctx context.Context) bool {
	on, _ := ctx.Value(key{}).(bool)
	return on
}

// InWorkflow reports whether the workflow context is sandboxed.
func InWorkflow(ctx workflow.Context) bool {
	on, _ := ctx.Value(key{}).(bool)
	return on
}

// Propagator passes the flag through Temporal headers. Register it on the
// client that starts runs and on the worker's client.
type Propagator struct{}

var _ workflow.ContextPropagator = Propagator{}

func payload(on bool) *commonpb.Payload {
	p, _ := converter.GetDefaultDataConverter().ToPayload(on)
	return p
}

func read(r workflow.HeaderReader) (bool, bool) {
	p, ok := r.Get(header)
	if !ok {
		return false, false
	}
	var on bool
	if err := converter.GetDefaultDataConverter().FromPayload(p, &on); err != nil {
		return false, false
	}
	return on, true
}

// Inject writes the flag of a client or activity context.
func (Propagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	if On(ctx) {
		w.Set(header, payload(true))
	}
	return nil
}

// Extract reads the flag into an activity context.
func (Propagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if on, ok := read(r); ok {
		return With(ctx, on), nil
	}
	return ctx, nil
}

// InjectFromWorkflow passes the workflow's flag to its activities and children.
func (Propagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	if InWorkflow(ctx) {
		w.Set(header, payload(true))
	}
	return nil
}

// ExtractToWorkflow reads the flag into the workflow context.
func (Propagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if on, ok := read(r); ok {
		return workflow.WithValue(ctx, key{}, on), nil
	}
	return ctx, nil
}

// WorkflowWith returns a workflow context whose activities and children are
// sandboxed, for a run the data policy sandboxes by default.
func WorkflowWith(ctx workflow.Context, on bool) workflow.Context {
	return workflow.WithValue(ctx, key{}, on)
}
