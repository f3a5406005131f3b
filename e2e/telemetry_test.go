package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/telemetry"
	"github.com/tandemhq/tandem/internal/temporalclient"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps every span sent to
// it, as a collector in front of Jaeger or Tempo would receive them.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t testing.TB) *otlpReceiver {
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var export collectortrace.ExportTraceServiceRequest
		if req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &export) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *otlpReceiver) received() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

func attr(s *tracepb.Span, key string) (string, int64, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue(), a.Value.GetIntValue(), true
		}
	}
	return "", 0, false
}

// TestOneTraceFromTheTriggerToTheModel starts a ticket routing through the
// HTTP trigger with tracing on, exporting over OTLP to a receiver the test
// runs, on the real Temporal server and the real Ollama with the test model.
// One trace runs from the HTTP request through the start, the workflow and
// its activities to each model call, whose spans carry the GenAI attributes
// and the tokens the run recorded; no span holds the ticket's personal
// data; and replaying the run adds no span.
func TestOneTraceFromTheTriggerToTheModel(t *testing.T) {
	receiver := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	td := startTandem(t)
	ctx := context.Background()
	tel, err := telemetry.Start(ctx, "e2e")
	require.NoError(t, err)
	require.True(t, tel.Tracing())
	defer otel.SetTracerProvider(nooptrace.NewTracerProvider())

	cfg := td.cfg
	cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-traced", "e2e-traced-model"
	c, w := startWorkersWith(t, td, cfg, tel)
	tc := api.NewClient(c, cfg.TaskQueue)
	srv := httptest.NewServer((&api.Server{Client: tc, Namespace: "default", Token: testToken}).Handler())
	defer srv.Close()

	secrets := []string{"Jonas Weber", "jonas.weber@example.de", "+49 30 1234567"}
	body, _ := json.Marshal(map[string]any{"kind": "ticket-routing", "idempotencyKey": "traced-" + time.Now().Format("150405.000000"),
		"input": workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: "Charged twice", Customer: secrets[0], Channel: "email",
			Body: "I was charged twice. Call me on " + secrets[2] + " or write to " + secrets[1] + "."}}})
	req, _ := http.NewRequest("POST", srv.URL+"/v1/runs", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var started struct {
		WorkflowID string `json:"workflowId"`
		RunID      string `json:"runId"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&started))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	run := c.GetWorkflow(ctx, started.WorkflowID, started.RunID)
	require.NoError(t, waitApproving(ctx, tc, run))
	var res workflows.TicketRoutingResult
	require.NoError(t, run.Get(ctx, &res))
	w.Stop()
	require.NoError(t, tel.Shutdown(ctx))

	spans := receiver.received()
	byName := map[string][]*tracepb.Span{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	require.Len(t, byName["POST /v1/runs"], 1, "the trigger's request span")
	root := byName["POST /v1/runs"][0]
	require.NotEmpty(t, byName["StartWorkflow:TicketRouting"])
	require.NotEmpty(t, byName["RunWorkflow:TicketRouting"])
	chats := byName["chat "+td.cfg.Model]
	require.GreaterOrEqual(t, len(chats), 2, "classify and draft")
	var in, out int64
	for _, s := range chats {
		assert.Equal(t, root.TraceId, s.TraceId, "a model call is in the request's trace")
		op, _, _ := attr(s, "gen_ai.operation.name")
		provider, _, _ := attr(s, "gen_ai.provider.name")
		model, _, _ := attr(s, "gen_ai.request.model")
		assert.Equal(t, "chat", op)
		assert.Equal(t, "ollama", provider)
		assert.Equal(t, td.cfg.Model, model)
		_, i, ok := attr(s, "gen_ai.usage.input_tokens")
		assert.True(t, ok)
		_, o, _ := attr(s, "gen_ai.usage.output_tokens")
		in, out = in+i, out+o
		purpose, _, _ := attr(s, "tandem.purpose")
		assert.NotEmpty(t, purpose)
		_, _, hasDigest := attr(s, "tandem.model_digest")
		assert.True(t, hasDigest)
	}
	var wantIn, wantOut int64
	for _, call := range res.ModelCalls {
		wantIn, wantOut = wantIn+int64(call.PromptTokens), wantOut+int64(call.OutputTokens)
	}
	assert.Equal(t, wantIn, in, "the spans' input tokens are the run's")
	assert.Equal(t, wantOut, out, "the spans' output tokens are the run's")
	for _, s := range spans {
		if s.TraceId != nil && string(s.TraceId) == string(root.TraceId) {
			continue
		}
		if strings.HasPrefix(s.Name, "chat ") || strings.HasPrefix(s.Name, "RunWorkflow:TicketRouting") {
			t.Errorf("span %s is outside the request's trace", s.Name)
		}
	}
	dump, _ := json.Marshal(spans)
	for _, secret := range secrets {
		assert.NotContains(t, string(dump), secret, "no span holds personal data")
	}

	// Replaying the run adds no span.
	before := len(receiver.received())
	tel2, err := telemetry.Start(ctx, "e2e-replay")
	require.NoError(t, err)
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		Interceptors: append(tel2.ReplayerInterceptors(), &workflows.RunMetrics{}), ContextPropagators: []workflow.ContextPropagator{sandbox.Propagator{}}})
	require.NoError(t, err)
	workflows.Register(replayer)
	require.NoError(t, replayer.ReplayWorkflowExecution(ctx, c.WorkflowService(), nil, "default",
		workflow.Execution{ID: started.WorkflowID, RunID: started.RunID}))
	require.NoError(t, tel2.Shutdown(ctx))
	for _, s := range receiver.received()[before:] {
		t.Errorf("replay added span %s", s.Name)
	}
}

// startWorkersWith dials Temporal and starts Tandem's workers for cfg on the
// deployment's store, with tel's traces and metrics (none when nil), as the
// worker command does; both stop when the test ends.
func startWorkersWith(t testing.TB, td *tandem, cfg config.Config, tel *telemetry.Telemetry) (client.Client, *workers.Workers) {
	t.Helper()
	ctx := context.Background()
	c, err := temporalclient.Dial(ctx, cfg, zap.NewNop(), tel)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	snap, err := workers.Preflight(ctx, cfg)
	require.NoError(t, err)
	w, err := workers.Start(c, cfg, td.records, snap, tel)
	require.NoError(t, err)
	t.Cleanup(w.Stop)
	return c, w
}

// metricFamilies reads a /metrics endpoint in the Prometheus text format.
func metricFamilies(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(prommodel.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// scrape reads a /metrics endpoint and sums, per metric name, the samples
// whose labels include want.
func scrape(t testing.TB, url string) func(name string, want map[string]string) float64 {
	t.Helper()
	families := metricFamilies(t, url)
	return func(name string, want map[string]string) float64 {
		total := 0.0
		family, ok := families[name]
		if !ok {
			return 0
		}
	samples:
		for _, m := range family.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue samples
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
		return total
	}
}

// TestMetricsCountKnownRuns scrapes a worker's /metrics before and after
// three ticket routings and an agent run on the real Temporal server, with
// a scripted model behind the real Ollama API whose calls report 50 tokens
// in and 20 out, one ticket waiting for a person and the agent trying a
// tool its profile does not allow: every counter moves by exactly what the
// runs did, the pending-decision gauge sees the run that waits, and every
// metric the Grafana dashboard queries is one the worker exports. The
// pending-decision gauge counts a whole namespace, so the test's runs and
// workers have a namespace of their own.
func TestMetricsCountKnownRuns(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	ctx := context.Background()
	tel, err := telemetry.Start(ctx, "e2e-metrics")
	require.NoError(t, err)
	metrics := httptest.NewServer(tel.MetricsHandler())
	defer metrics.Close()
	model := scriptedOllama(t, func(format, last string) string {
		if format == "tools" { // an agent step, by native tool calling
			switch {
			case !strings.Contains(last, "lookup_order"):
				return `TOOLCALL {"name":"lookup_order","arguments":{"orderId":"O-20931"}}`
			case !strings.Contains(last, "read_doc"):
				return `TOOLCALL {"name":"read_doc","arguments":{"name":"refund-policy.md"}}`
			}
			return "Refunds take 14 days."
		}
		if strings.Contains(format, `"priority"`) && (strings.Contains(last, "Gibberish") || strings.HasPrefix(last, "That answer is not usable")) {
			return `{}` // never the schema, nor when asked again: the run falls back and asks a person
		}
		if strings.Contains(format, `"priority"`) {
			p := "normal"
			if strings.Contains(last, "URGENT") {
				p = "high"
			}
			return `{"category":"billing","priority":"` + p + `","sentiment":"neutral","language":"en","summary":"charged twice"}`
		}
		return "Thank you; we are refunding the duplicate charge."
	})
	cfg := td.cfg
	cfg.OllamaHost, cfg.Model = model.URL, "scripted"
	cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-metrics", "e2e-metrics-model"
	cfg.Namespace = td.servers.Namespace(t, "e2e-metrics")
	c, _ := startWorkersWith(t, td, cfg, tel)
	require.NoError(t, workers.EnsureSearchAttributes(ctx, c, cfg.Namespace))
	tc := api.NewClient(c, cfg.TaskQueue)

	before := scrape(t, metrics.URL)
	kind := map[string]string{"kind": "ticket-routing"}
	var started []*api.Run[workflows.TicketRoutingResult]
	for i, subject := range []string{"Charged twice", "Charged twice again", "URGENT: charged three times", "Gibberish ticket"} {
		run, err := tc.StartTicketRouting(ctx, api.WorkflowID("ticket-routing", fmt.Sprintf("metrics-%d-%d", time.Now().UnixNano(), i)),
			workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: subject, Customer: "Camille Martin", Channel: "email",
				Body: "Two charges in March. Write to camille.martin@example.com."}})
		require.NoError(t, err)
		started = append(started, run)
	}
	agent, err := tc.StartAgent(ctx, api.WorkflowID("agent", fmt.Sprintf("metrics-%d", time.Now().UnixNano())),
		workflows.AgentInput{Goal: "How long do refunds take?", Profile: "research", Policy: &workflows.AgentPolicy{Mode: "tools"}})
	require.NoError(t, err)
	missing, err := tc.StartInvoice(ctx, api.WorkflowID("invoice", fmt.Sprintf("metrics-%d", time.Now().UnixNano())),
		workflows.InvoiceInput{DocumentID: "no-such-document"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return scrape(t, metrics.URL)("tandem_decisions_pending", kind) == 2
	}, time.Minute, 500*time.Millisecond, "the urgent and the garbled ticket wait for a person, and the gauge says so")
	for _, run := range started {
		require.NoError(t, waitApproving(ctx, tc, run.Run))
	}
	answer, err := agent.Result(ctx)
	require.NoError(t, err)
	require.Equal(t, "finished", answer.Outcome, answer.Reason)
	_, err = missing.Result(ctx)
	require.Error(t, err, "an invoice whose document is missing fails")
	after := scrape(t, metrics.URL)
	moved := func(name string, labels map[string]string) float64 { return after(name, labels) - before(name, labels) }

	assert.Equal(t, 4.0, moved("tandem_runs_started_total", kind))
	assert.Equal(t, 4.0, moved("tandem_runs_completed_total", kind))
	assert.Equal(t, 0.0, moved("tandem_runs_failed_total", kind))
	assert.Equal(t, 1.0, moved("tandem_runs_failed_total", map[string]string{"kind": "invoice"}))
	assert.Equal(t, 10.0, moved("tandem_model_call_duration_seconds", map[string]string{"model": "scripted"}),
		"two answered calls a ticket but the garbled one's classification, three agent steps")
	assert.Equal(t, 3.0, moved("tandem_model_call_duration_seconds", map[string]string{"model": "scripted", "purpose": "agent step"}))
	assert.Equal(t, 600.0, moved("tandem_model_tokens_total", map[string]string{"model": "scripted", "type": "input"}),
		"ten answered calls, and the two tries of the classification that never met its schema")
	assert.Equal(t, 240.0, moved("tandem_model_tokens_total", map[string]string{"model": "scripted", "type": "output"}))
	assert.Equal(t, 1.0, moved("tandem_model_invalid_answers_total", map[string]string{"model": "scripted"}))
	assert.Equal(t, 1.0, moved("tandem_model_errors_total", map[string]string{"model": "scripted", "class": "ModelInvalidAnswer"}))
	assert.Equal(t, 2.0, moved("tandem_decision_wait_seconds", map[string]string{"kind": "ticket-routing", "outcome": "approved"}))
	assert.GreaterOrEqual(t, moved("tandem_redactions_total", map[string]string{"detector": "email"}), 4.0, "each run's address, before the model saw it")
	assert.Positive(t, after("temporal_workflow_completed_total", nil), "the SDK's own metrics are served too")
	research := map[string]string{"profile": "research"}
	assert.Equal(t, 3.0, moved("tandem_agent_steps_total", research), "lookup_order, read_doc, finish")
	assert.Equal(t, 1.0, moved("tandem_agent_policy_denials_total", map[string]string{"profile": "research", "tool": "lookup_order"}))
	assert.Equal(t, 1.0, moved("tandem_agent_tool_calls_total", map[string]string{"profile": "research", "tool": "lookup_order", "outcome": "denied"}))
	assert.Equal(t, 1.0, moved("tandem_agent_tool_calls_total", map[string]string{"profile": "research", "tool": "read_doc", "outcome": "ok"}))
	assert.Equal(t, 1.0, moved("tandem_tool_executions_total", map[string]string{"tool": "read_doc", "outcome": "ok"}))
	assert.Equal(t, 1.0, moved("tandem_runs_completed_total", map[string]string{"kind": "agent"}))
	assert.Eventually(t, func() bool { return scrape(t, metrics.URL)("tandem_decisions_pending", kind) == 0 }, time.Minute, 500*time.Millisecond)

	// The dashboard queries only what the worker exports.
	exported := scrapeNames(t, metrics.URL)
	for _, name := range dashboardMetrics(t) {
		assert.True(t, exported[name], "the dashboard queries %s, which the worker does not export", name)
	}
}

// scrapeNames is every metric name a /metrics endpoint exports, with the
// series names of histograms (_bucket, _sum, _count) too.
func scrapeNames(t *testing.T, url string) map[string]bool {
	names := map[string]bool{}
	for name, f := range metricFamilies(t, url) {
		names[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		}
	}
	return names
}

// dashboardMetrics are the metric names the Grafana dashboard's queries use.
func dashboardMetrics(t *testing.T) []string {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "grafana", "tandem.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	seen := map[string]bool{}
	var names []string
	metric := regexp.MustCompile(`\b(tandem|temporal)_[a-z0-9_]+\b`)
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has a query", p.Title)
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
	}
	require.NotEmpty(t, names)
	return names
}
