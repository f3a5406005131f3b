package activities

import (
	"context"

	"github.com/tandemhq/tandem/internal/policy"
)

// ModelDefaults is the worker's configured model and model task queue.
type ModelDefaults struct {
	Model     string `json:"model"`
	TaskQueue string `json:"taskQueue"`
}

// Settings hands the worker's configuration to workflows through local
// activities, so that what a run used is recorded in its history.
type Settings struct {
	Model          string
	ModelTaskQueue string
	Policy         policy.Snapshot
}

// ModelDefaults returns the model and task queue runs use when their input
// names none.
func (s *Settings) ModelDefaults(ctx context.Context) (ModelDefaults, error) {
	return ModelDefaults{Model: s.Model, TaskQueue: s.ModelTaskQueue}, nil
}

// DataPolicy returns the data policy the worker enforces, for the run to
// record as its snapshot.
func (s *Settings) DataPolicy(ctx context.Context) (policy.Snapshot, error) {
	return s.Policy, nil
}
