package telemetry

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTracingIsOnOnlyWithAnEndpoint(t *testing.T) {
	for _, c := range []struct {
		endpoint, tracesEndpoint, exporter string
		on                                 bool
	}{
		{"", "", "", false},
		{"http://collector:4318", "", "", true},
		{"", "http://collector:4318/v1/traces", "", true},
		{"http://collector:4318", "", "none", false},
	} {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.endpoint)
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", c.tracesEndpoint)
		t.Setenv("OTEL_TRACES_EXPORTER", c.exporter)
		assert.Equal(t, c.on, TracingOn(), "%+v", c)
	}
}

// TestMetricsAreServedInThePrometheusFormat records Tandem's instruments
// with tracing off and reads them back from the metrics handler, with
// Prometheus names: _total on counters, units on histograms.
func TestMetricsAreServedInThePrometheusFormat(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	ctx := context.Background()
	tel, err := Start(ctx, "test")
	require.NoError(t, err)
	defer tel.ShutdownWithin(time.Second)
	assert.False(t, tel.Tracing())
	assert.Nil(t, tel.WorkerInterceptors())
	tel.Metrics.ModelCall(ctx, "qwen2.5:3b", "classify", 1500*time.Millisecond, 120, 40, 1)
	tel.Metrics.FirstToken(ctx, "qwen2.5:3b", "classify", 300*time.Millisecond)
	tel.Metrics.ModelError(ctx, "qwen2.5:3b", "ModelTimeout")
	tel.Metrics.Redacted(ctx, "email", 2)
	tel.Metrics.ToolExecuted(ctx, "read_doc", "ok", 10*time.Millisecond)

	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		`tandem_model_call_duration_seconds_count{model="qwen2.5:3b",purpose="classify"} 1`,
		`tandem_model_tokens_total{model="qwen2.5:3b",purpose="classify",type="input"} 120`,
		`tandem_model_tokens_total{model="qwen2.5:3b",purpose="classify",type="output"} 40`,
		`tandem_model_schema_repairs_total{model="qwen2.5:3b",purpose="classify"} 1`,
		`tandem_model_time_to_first_token_seconds_sum{model="qwen2.5:3b",purpose="classify"} 0.3`,
		`tandem_model_errors_total{class="ModelTimeout",model="qwen2.5:3b"} 1`,
		`tandem_redactions_total{detector="email"} 2`,
		`tandem_tool_executions_total{outcome="ok",tool="read_doc"} 1`,
	} {
		assert.Contains(t, string(body), line)
	}
	assert.Contains(t, string(body), "go_goroutines")
}
