package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Metrics are the instruments of Tandem's activities. Workflows record
// theirs through the Temporal SDK's replay-safe metrics handler instead
// (workflows/metrics.go), so that replay never counts twice.
type Metrics struct {
	modelDuration   metric.Float64Histogram
	firstToken      metric.Float64Histogram
	tokens          metric.Int64Counter
	repairs         metric.Int64Counter
	invalidAnswers  metric.Int64Counter
	modelErrors     metric.Int64Counter
	redactions      metric.Int64Counter
	toolExecutions  metric.Int64Counter
	toolDurationSec metric.Float64Histogram
}

// NewMetrics makes Tandem's instruments on meter.
func NewMetrics(meter metric.Meter) (*Metrics, error) {
	m := &Metrics{}
	var err error
	add := func(f func() error) {
		if err == nil {
			err = f()
		}
	}
	add(func() (e error) {
		m.modelDuration, e = meter.Float64Histogram("tandem_model_call_duration", metric.WithUnit("s"),
			metric.WithDescription("How long one model call took, retries of a bad answer included."))
		return
	})
	add(func() (e error) {
		m.firstToken, e = meter.Float64Histogram("tandem_model_time_to_first_token", metric.WithUnit("s"),
			metric.WithDescription("How long a model call waited for the model's first token."))
		return
	})
	add(func() (e error) {
		m.tokens, e = meter.Int64Counter("tandem_model_tokens", metric.WithUnit("{token}"),
			metric.WithDescription("Tokens into (type=input) and out of (type=output) the model."))
		return
	})
	add(func() (e error) {
		m.repairs, e = meter.Int64Counter("tandem_model_schema_repairs",
			metric.WithDescription("Answers that broke their schema and were asked again."))
		return
	})
	add(func() (e error) {
		m.invalidAnswers, e = meter.Int64Counter("tandem_model_invalid_answers",
			metric.WithDescription("Model calls whose answer never met its schema."))
		return
	})
	add(func() (e error) {
		m.modelErrors, e = meter.Int64Counter("tandem_model_errors",
			metric.WithDescription("Failed model calls, by class (the application error type)."))
		return
	})
	add(func() (e error) {
		m.redactions, e = meter.Int64Counter("tandem_redactions",
			metric.WithDescription("Values replaced by placeholders before text reached a model, by detector."))
		return
	})
	add(func() (e error) {
		m.toolExecutions, e = meter.Int64Counter("tandem_tool_executions",
			metric.WithDescription("Agent tools that ran as activities, by tool and outcome."))
		return
	})
	add(func() (e error) {
		m.toolDurationSec, e = meter.Float64Histogram("tandem_tool_execution_duration", metric.WithUnit("s"),
			metric.WithDescription("How long an agent tool took when it ran as an activity."))
		return
	})
	if err != nil {
		return nil, fmt.Errorf("make Tandem's metrics: %w", err)
	}
	return m, nil
}

// Discard are instruments that record nothing, for code run without a
// process's telemetry (tests, tools).
var Discard, _ = NewMetrics(noop.NewMeterProvider().Meter(Name))

// ModelCall records one answered model call, its tokens included.
func (m *Metrics) ModelCall(ctx context.Context, model, purpose string, took time.Duration, in, out, repairs int) {
	attrs := metric.WithAttributes(attribute.String("model", model), attribute.String("purpose", purpose))
	m.modelDuration.Record(ctx, took.Seconds(), attrs)
	m.Tokens(ctx, model, purpose, in, out)
	m.repairs.Add(ctx, int64(repairs), attrs)
}

// Tokens records tokens into and out of a model, for calls answered or not:
// a call whose answer never met its schema still used them.
func (m *Metrics) Tokens(ctx context.Context, model, purpose string, in, out int) {
	m.tokens.Add(ctx, int64(in), metric.WithAttributes(attribute.String("model", model), attribute.String("purpose", purpose), attribute.String("type", "input")))
	m.tokens.Add(ctx, int64(out), metric.WithAttributes(attribute.String("model", model), attribute.String("purpose", purpose), attribute.String("type", "output")))
}

// FirstToken records how long a model call waited for its first token.
func (m *Metrics) FirstToken(ctx context.Context, model, purpose string, wait time.Duration) {
	m.firstToken.Record(ctx, wait.Seconds(), metric.WithAttributes(attribute.String("model", model), attribute.String("purpose", purpose)))
}

// InvalidAnswer records a model call whose answer never met its schema.
func (m *Metrics) InvalidAnswer(ctx context.Context, model, purpose string) {
	m.invalidAnswers.Add(ctx, 1, metric.WithAttributes(attribute.String("model", model), attribute.String("purpose", purpose)))
}

// ModelError records a failed model call of an error class.
func (m *Metrics) ModelError(ctx context.Context, model, class string) {
	m.modelErrors.Add(ctx, 1, metric.WithAttributes(attribute.String("model", model), attribute.String("class", class)))
}

// Redacted records n values a detector replaced.
func (m *Metrics) Redacted(ctx context.Context, detector string, n int) {
	m.redactions.Add(ctx, int64(n), metric.WithAttributes(attribute.String("detector", detector)))
}

// ToolExecuted records an agent tool that ran as an activity.
func (m *Metrics) ToolExecuted(ctx context.Context, tool, outcome string, took time.Duration) {
	attrs := metric.WithAttributes(attribute.String("tool", tool), attribute.String("outcome", outcome))
	m.toolExecutions.Add(ctx, 1, attrs)
	m.toolDurationSec.Record(ctx, took.Seconds(), attrs)
}
