package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/internal/telemetry"
)

// BenchmarkTelemetryCost routes N tickets at once with tracing (to an OTLP
// receiver in the test) and metrics on, then N with both off, in the same
// run, with in-process workers and a scripted model that answers at once,
// and reports both throughputs and their ratio.
//
//	go test ./e2e -run '^$' -bench TelemetryCost -benchtime 3x
func BenchmarkTelemetryCost(b *testing.B) {
	receiver := newOTLPReceiver(b)
	b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.URL)
	b.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	defer otel.SetTracerProvider(nooptrace.NewTracerProvider())
	td := startTandem(b)
	model := scriptedOllama(b, ticketAnswers("normal"))
	n := benchRuns(200)
	ctx := context.Background()
	tel, err := telemetry.Start(ctx, "bench")
	require.NoError(b, err)
	defer tel.ShutdownWithin(5e9)
	deploy := func(name string, tel *telemetry.Telemetry) (client.Client, string) {
		cfg := td.cfg
		cfg.OllamaHost, cfg.Model, cfg.ModelParallel = model.URL, "scripted", 32
		cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-telemetry-"+name, "e2e-telemetry-"+name+"-model"
		c, _ := startWorkersWith(b, td, cfg, tel)
		return c, cfg.TaskQueue
	}
	onClient, onQueue := deploy("on", tel)
	offClient, offQueue := deploy("off", nil)
	var onRate, offRate float64
	for i := 0; i < b.N; i++ {
		off, on := routeTickets(b, offClient, offQueue, n), routeTickets(b, onClient, onQueue, n)
		b.Logf("%d ticket routings: telemetry off %.1f runs/s, on %.1f runs/s, cost %.2fx", n, off, on, off/on)
		onRate, offRate = onRate+on/float64(b.N), offRate+off/float64(b.N)
	}
	b.ReportMetric(offRate, "off-runs/s")
	b.ReportMetric(onRate, "on-runs/s")
	b.ReportMetric(offRate/onRate, "cost")
	b.ReportMetric(0, "ns/op")
}
