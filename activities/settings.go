package activities

import "context"

// ModelDefaults is the worker's configured model and model task queue.
type ModelDefaults struct {
	Model     string `json:"model"`
	TaskQueue string `json:"taskQueue"`
}

// Settings hands the worker's configuration to workflows through a local
// activity, so that what a run used is recorded in its history.
type Settings struct {
	Model          string
	ModelTaskQueue string
}

// ModelDefaults returns the model and task queue runs use when their input
// names none.
func (s *Settings) ModelDefaults(ctx context.Context) (ModelDefaults, error) {
	return ModelDefaults{Model: s.Model, TaskQueue: s.ModelTaskQueue}, nil
}
