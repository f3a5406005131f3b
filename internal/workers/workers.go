// Package workers builds Tandem's Temporal workers: one for workflows and
// business activities, and one per model server whose concurrency is bounded
// to the server's parallelism, so excess model calls wait visibly in Temporal
// (as scheduled activities) rather than inside Ollama.
package workers

import (
	"context"
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/localonly"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/redact"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/workflows"
)

// Workers are the running Tandem workers of one process.
type Workers struct {
	all []worker.Worker
	// Ready are the checks of what the workers depend on: Temporal, the
	// business store and, for model calls, the model server and model.
	Ready health.Checks
}

// Preflight loads the data policy and checks that the model server is one
// it allows, before a worker connects to anything.
func Preflight(ctx context.Context, cfg config.Config) (policy.Snapshot, error) {
	snap, err := policy.Load(cfg.PolicyFile, workflows.ToolNames())
	if err != nil {
		return policy.Snapshot{}, err
	}
	if err := localonly.Check(ctx, cfg.OllamaHost, allowedEndpoints(cfg, snap)); err != nil {
		return policy.Snapshot{}, err
	}
	return snap, nil
}

func allowedEndpoints(cfg config.Config, snap policy.Snapshot) []string {
	return append(slices.Clone(cfg.ModelEndpoints), snap.Policy.Inference.Endpoints...)
}

// Start registers the workflows and activities of the worker's role, under
// the data policy that Preflight loaded, and starts polling: the workflows
// and business activities on the task queue, the model calls on the model
// task queue, or both. A stopping worker lets running activities finish
// for up to cfg.ShutdownTimeout.
func Start(c client.Client, cfg config.Config, records *store.Store, snap policy.Snapshot) (*Workers, error) {
	model, err := activities.NewModel(cfg.OllamaHost, cfg.ModelTimeout)
	if err != nil {
		return nil, err
	}
	model.AllowedEndpoints = allowedEndpoints(cfg, snap)
	business := &activities.Store{Records: records}
	redactor, err := snap.Policy.Redactor()
	if err != nil {
		return nil, err
	}
	model.Redaction = &activities.Redaction{Redactor: redactor, Restore: snap.Policy.Redaction.RestoreOutputs, Store: business,
		Names: slices.Contains(snap.Policy.Redaction.Detectors, redact.CustomerName)}

	w := &Workers{Ready: health.Checks{"temporal": health.Temporal(c), "store": records.Ping}}
	if cfg.Role != config.RoleModel {
		main := worker.New(c, cfg.TaskQueue, worker.Options{MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 8,
			WorkerStopTimeout: cfg.ShutdownTimeout})
		workflows.Register(main)
		main.RegisterActivity(business)
		main.RegisterActivity(&activities.Reports{Store: business, Dir: cfg.ReportsDir})
		main.RegisterActivity(&activities.Tools{Store: business, CorpusDir: cfg.CorpusDir})
		main.RegisterActivity(&activities.Settings{Model: cfg.Model, ModelTaskQueue: cfg.ModelTaskQueue, Policy: snap})
		w.all = append(w.all, main)
	}
	if cfg.Role != config.RoleWorkflows {
		models := worker.New(c, cfg.ModelTaskQueue, worker.Options{
			MaxConcurrentActivityExecutionSize: cfg.ModelParallel,
			MaxConcurrentActivityTaskPollers:   max(2, cfg.ModelParallel),
			DisableWorkflowWorker:              true,
			WorkerStopTimeout:                  cfg.ShutdownTimeout,
		})
		models.RegisterActivity(model)
		models.RegisterActivity(&activities.Agent{Model: model, Store: business})
		w.all = append(w.all, models)
		w.Ready["ollama"] = func(ctx context.Context) error { return model.Ready(ctx, cfg.Model) }
	}
	for _, wk := range w.all {
		if err := wk.Start(); err != nil {
			w.Stop()
			return nil, fmt.Errorf("start worker: %w", err)
		}
	}
	return w, nil
}

// Stop stops every worker: it stops polling, and lets running activities
// finish within the shutdown timeout.
func (w *Workers) Stop() {
	for _, wk := range w.all {
		wk.Stop()
	}
}

// EnsureSearchAttributes registers Tandem's search attributes on the
// namespace where they are missing. It is safe to call on every start.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes {
		if _, ok := existing.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("register search attributes on namespace %s: %w", namespace, err)
	}
	return nil
}
