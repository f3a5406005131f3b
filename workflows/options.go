// Package workflows holds Tandem's workflows: deterministic code only. Other
// services start them by the exported names, with the exported input and
// result types.
package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
)

// DefaultModelTaskQueue is the task queue of the model worker.
const DefaultModelTaskQueue = "tandem-model"

// ModelSettings says which model serves a run and on which task queue its
// calls wait. Empty fields take the worker's configuration, recorded in the
// run's history at its start.
type ModelSettings struct {
	Model     string `json:"model,omitempty"`
	TaskQueue string `json:"taskQueue,omitempty"`
}

// resolveModel fills in empty model settings from the worker's configuration
// through a local activity, so the choice is recorded in history.
func resolveModel(ctx workflow.Context, in ModelSettings) (ModelSettings, error) {
	if in.Model != "" && in.TaskQueue != "" {
		return in, nil
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		Summary:             "read the worker's model settings",
	})
	var settings activities.ModelDefaults
	var cfg *activities.Settings
	if err := workflow.ExecuteLocalActivity(lctx, cfg.ModelDefaults).Get(ctx, &settings); err != nil {
		return in, err
	}
	if in.Model == "" {
		in.Model = settings.Model
	}
	if in.TaskQueue == "" {
		in.TaskQueue = settings.TaskQueue
	}
	return in, nil
}

// withModel returns a context for one model call on the model task queue.
// A call is bounded by time, not attempts: the data policy's
// models.retryFor (30 minutes by default) covers its wait in the queue, the
// activity waiting out a failing server, and Temporal's retries, so an
// outage shorter than that delays runs and fails none. Heartbeats detect a
// dead worker.
func withModel(ctx workflow.Context, m ModelSettings, summary string) workflow.Context {
	budget := runPolicy(ctx).ModelRetryFor()
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              m.TaskQueue,
		ScheduleToCloseTimeout: budget,
		StartToCloseTimeout:    budget,
		HeartbeatTimeout:       15 * time.Second, // live output reaches `starter watch` about every 12 s
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: activities.NonRetryableModelErrors,
		},
	})
}

// withLookup returns a context for a short read of the business store, run
// as a local activity.
func withLookup(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second, Summary: summary})
}

// withStore returns a context for one business-store activity.
func withStore(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
		},
	})
}

// decodeAnswer decodes a model's schema-validated structured answer.
func decodeAnswer[T any](res activities.ChatResult) (T, error) {
	var v T
	// Decoding JSON is deterministic; workflowcheck only sees the runtime's
	// allocator beneath encoding/json.
	//workflowcheck:ignore
	if err := json.Unmarshal(res.Answer, &v); err != nil {
		return v, fmt.Errorf("decode the model's answer to %q: %w", res.Call.Purpose, err)
	}
	return v, nil
}
