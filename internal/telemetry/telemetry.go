// Package telemetry is a Tandem process's traces and metrics. Traces go over
// OTLP when the standard OTEL_EXPORTER_OTLP_* variables name an endpoint,
// and cost nothing otherwise; metrics, the Temporal SDK's and Tandem's own,
// are served in the Prometheus format. Model calls follow the OpenTelemetry
// GenAI semantic conventions.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Name is the instrumentation scope of Tandem's own spans and metrics.
const Name = "github.com/tandemhq/tandem"

// Telemetry is one process's traces and metrics.
type Telemetry struct {
	// Tracer makes Tandem's own spans; a no-op tracer when tracing is off.
	Tracer trace.Tracer
	// Meter makes Tandem's own instruments.
	Meter metric.Meter
	// Metrics are Tandem's instruments.
	Metrics *Metrics

	registry *prometheus.Registry
	traces   *sdktrace.TracerProvider // nil when tracing is off
	tracing  interceptor.Interceptor  // Temporal's tracing interceptor; nil when tracing is off
	meters   *sdkmetric.MeterProvider
}

// TracingOn reports whether the environment asks for traces: an OTLP
// endpoint is set and OTEL_TRACES_EXPORTER is not "none".
func TracingOn() bool {
	if os.Getenv("OTEL_TRACES_EXPORTER") == "none" || os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Start sets up the telemetry of a process named service (worker, trigger,
// starter): an OTLP trace exporter when TracingOn, and a Prometheus registry
// with the Go runtime's, the Temporal SDK's and Tandem's metrics.
func Start(ctx context.Context, service string) (*Telemetry, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("tandem-"+service)))
	if err != nil {
		return nil, fmt.Errorf("describe the process for telemetry: %w", err)
	}
	t := &Telemetry{registry: prometheus.NewRegistry(), Tracer: noop.NewTracerProvider().Tracer(Name)}
	t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(t.registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("set up the Prometheus metrics: %w", err)
	}
	t.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res),
		sdkmetric.WithView(histogramBuckets))
	t.Meter = t.meters.Meter(Name)
	if t.Metrics, err = NewMetrics(t.Meter); err != nil {
		return nil, err
	}
	if TracingOn() {
		spans, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("set up the OTLP trace exporter (check OTEL_EXPORTER_OTLP_ENDPOINT): %w", err)
		}
		t.traces = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(dropReplays{sdktrace.NewBatchSpanProcessor(spans)}),
			sdktrace.WithResource(res))
		otel.SetTracerProvider(t.traces)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		t.Tracer = t.traces.Tracer(Name)
		t.tracing, err = temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
			Tracer:            t.traces.Tracer("temporal-sdk-go"),
			TextMapPropagator: otel.GetTextMapPropagator(),
			SpanContextKey:    spanKey{},
		})
		if err != nil {
			return nil, fmt.Errorf("set up Temporal tracing: %w", err)
		}
	}
	return t, nil
}

// histogramBuckets gives durations buckets from 5 ms to 5 minutes, for
// model calls and people's decisions alike.
var histogramBuckets = sdkmetric.NewView(
	sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
	sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
		Boundaries: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 14400, 86400},
	}})

// ClientOptions adds to a Temporal client's options the SDK's metrics, and
// the tracing interceptor when tracing is on, so that one trace runs from a
// start through the workflow and its activities.
func (t *Telemetry) ClientOptions(opts *client.Options) error {
	opts.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: t.meters.Meter("temporal-sdk-go"), UseMonotonicCounters: true,
		OnError: func(error) {}, // an instrument that cannot be made is left out, not a crash
	})
	if t.tracing != nil {
		opts.Interceptors = append([]interceptor.ClientInterceptor{t.tracing}, opts.Interceptors...)
	}
	return nil
}

// WorkerInterceptors are the interceptors a worker adds to its own when
// tracing is on: the marker of spans made in replay. A workflow replayer
// also needs the tracing interceptor itself (ReplayerInterceptors).
func (t *Telemetry) WorkerInterceptors() []interceptor.WorkerInterceptor {
	if t == nil || t.tracing == nil {
		return nil
	}
	return []interceptor.WorkerInterceptor{&ReplayMarker{}}
}

// ReplayerInterceptors are the interceptors a workflow replayer needs to
// trace as a worker does: none when tracing is off.
func (t *Telemetry) ReplayerInterceptors() []interceptor.WorkerInterceptor {
	if t.tracing == nil {
		return nil
	}
	return []interceptor.WorkerInterceptor{t.tracing, &ReplayMarker{}}
}

// Tracing reports whether spans are exported.
func (t *Telemetry) Tracing() bool { return t.traces != nil }

// MetricsHandler serves the metrics in the Prometheus format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{Registry: t.registry})
}

// Shutdown flushes the spans still buffered, within ctx.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.traces != nil {
		errs = append(errs, t.traces.Shutdown(ctx))
	}
	errs = append(errs, t.meters.Shutdown(ctx))
	return errors.Join(errs...)
}

// ShutdownWithin is Shutdown bounded by d, for deferred calls.
func (t *Telemetry) ShutdownWithin(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = t.Shutdown(ctx)
}
