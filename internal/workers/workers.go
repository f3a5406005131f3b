// Package workers builds Tandem's Temporal workers: one for workflows and
// business activities, and one per model server whose concurrency is bounded
// to the server's parallelism, so excess model calls wait visibly in Temporal
// (as scheduled activities) rather than inside Ollama.
package workers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/localonly"
	"github.com/tandemhq/tandem/internal/mcptools"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/redact"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/telemetry"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// Workers are the running Tandem workers of one process.
type Workers struct {
	all []worker.Worker
	// Ready are the checks of what the workers depend on: Temporal, the
	// business store and, for model calls, the model server and model.
	Ready health.Checks
	// MCPServers checks the data policy's MCP servers and says, in a line
	// each, what their tools become; nil when the policy declares none.
	MCPServers func(ctx context.Context) []string

	mcp      *mcptools.Pool
	stopped  chan struct{} // closed by Stop
	stopOnce sync.Once
}

// Preflight loads the data policy and the agent profiles, and checks that the model server is one
// it allows, before a worker connects to anything.
func Preflight(ctx context.Context, cfg config.Config) (policy.Snapshot, error) {
	snap, err := policy.Load(cfg.PolicyFile, workflows.ToolNames())
	if err != nil {
		return policy.Snapshot{}, err
	}
	if _, err := workflows.LoadProfiles(cfg.ProfilesDir, snap.Policy); err != nil {
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
//
// With tel, model calls and tool executions are spans and metrics, and
// the workflows count runs, decisions and agent steps; nil records none.
func Start(c client.Client, cfg config.Config, records *store.Store, snap policy.Snapshot, tel *telemetry.Telemetry) (*Workers, error) {
	model, err := activities.NewModel(cfg.OllamaHost, cfg.ModelTimeout)
	if err != nil {
		return nil, err
	}
	model.AllowedEndpoints = allowedEndpoints(cfg, snap)
	model.KeepAlive = cfg.ModelKeepAlive
	model.Parallel = cfg.ModelParallel
	var tracer trace.Tracer
	var metrics *telemetry.Metrics
	if tel != nil {
		tracer, metrics = tel.Tracer, tel.Metrics
	}
	model.Tracer, model.Metrics, model.SpanContent = tracer, metrics, snap.Policy.Telemetry.SpanContent
	business := &activities.Store{Records: records}
	redactor, err := snap.Policy.Redactor()
	if err != nil {
		return nil, err
	}
	model.Redaction = &activities.Redaction{Redactor: redactor, Restore: snap.Policy.Redaction.RestoreOutputs, Store: business,
		Names: slices.Contains(snap.Policy.Redaction.Detectors, redact.CustomerName), Metrics: metrics}

	w := &Workers{Ready: health.Checks{"temporal": health.Temporal(c), "store": records.Ping}, stopped: make(chan struct{})}
	if cfg.Role != config.RoleModel {
		main := worker.New(c, cfg.TaskQueue, worker.Options{MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 8,
			WorkerStopTimeout: cfg.ShutdownTimeout, Interceptors: append([]interceptor.WorkerInterceptor{&workflows.RunMetrics{},
				&workflows.WorkerPolicy{Hash: func() string { return snap.Hash }}}, tel.WorkerInterceptors()...)})
		profiles, err := workflows.LoadProfiles(cfg.ProfilesDir, snap.Policy)
		if err != nil {
			return nil, err
		}
		workflows.Profiles = profiles
		workflows.Register(main)
		main.RegisterActivity(&workflows.LoadedProfiles{List: profiles})
		main.RegisterActivity(business)
		main.RegisterActivity(&activities.Reports{Store: business, Dir: cfg.ReportsDir})
		tools := &activities.Tools{Store: business, CorpusDir: cfg.CorpusDir, ReportsDir: cfg.ReportsDir, Tracer: tracer, Metrics: metrics, Redactor: redactor}
		if servers := snap.Policy.MCP.Servers; len(servers) > 0 {
			tools.MCP = mcptools.NewPool(servers, "tandem")
			w.mcp = tools.MCP
			w.MCPServers = func(ctx context.Context) []string { return activities.CheckMCPServers(ctx, w.mcp) }
		}
		main.RegisterActivity(tools)
		main.RegisterActivity(&activities.Settings{Model: cfg.Model, ModelTaskQueue: cfg.ModelTaskQueue, Policy: snap})
		w.all = append(w.all, main)
		if tel != nil {
			if err := countPendingDecisions(c, cfg.Namespace, tel.Meter, 5*time.Second, w.stopped); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Role != config.RoleWorkflows {
		models := worker.New(c, cfg.ModelTaskQueue, worker.Options{
			// One more than the model server's slots: the extra call waits in
			// Model.slot, ready the moment a slot frees.
			MaxConcurrentActivityExecutionSize: cfg.ModelParallel + 1,
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
	w.stopOnce.Do(func() { close(w.stopped) })
	for _, wk := range w.all {
		wk.Stop()
	}
	if w.mcp != nil {
		w.mcp.Close()
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

// countPendingDecisions reports how many runs of each kind wait for a
// person, from Temporal's visibility, so the count is right across workers
// and restarts as no counter in one process could be. It counts every
// few seconds until stop is closed; the gauge reports the latest count
// (a collection must not call Temporal: the client records its own metrics
// on the same meter).
func countPendingDecisions(c client.Client, namespace string, meter metric.Meter, every time.Duration, stop <-chan struct{}) error {
	var counts sync.Map // kind -> int64
	gauge, err := meter.Int64ObservableGauge("tandem_decisions_pending",
		metric.WithDescription("Runs waiting for a person to decide, by kind."))
	if err != nil {
		return err
	}
	if _, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		counts.Range(func(kind, n any) bool {
			o.ObserveInt64(gauge, n.(int64), metric.WithAttributes(attribute.String("kind", kind.(string))))
			return true
		})
		return nil
	}, gauge); err != nil {
		return err
	}
	count := func() {
		ctx, cancel := context.WithTimeout(context.Background(), every)
		defer cancel()
		for _, kind := range runs.Kinds {
			resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace,
				Query: fmt.Sprintf("TandemWaiting = true AND ExecutionStatus = 'Running' AND TandemKind = '%s'", kind)})
			if err == nil {
				counts.Store(kind, resp.GetCount())
			}
		}
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			count()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return nil
}
