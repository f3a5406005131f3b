package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/workflows"
)

// soakSample is one window of a soak: when it ended, the worker's resident
// memory and goroutines then, and the runs that completed in it.
type soakSample struct {
	At         time.Duration
	RSSMB      float64
	Goroutines float64
	Completed  int
	P50, P99   time.Duration
}

// BenchmarkSoak routes tickets at a steady rate through the real worker
// binary with an instant scripted model, for TANDEM_SOAK (20m) at
// TANDEM_SOAK_RATE runs a second (5). Every 10 s it samples the worker's
// resident memory, its goroutines (from its /metrics) and the median and
// p99 latency of the runs that completed in the window, start to result as
// a client sees it. Every run must complete. The samples go to soak.csv and
// soak.svg in TANDEM_SOAK_OUT (the benchmark's temporary folder otherwise).
//
//	TANDEM_SOAK_OUT=docs/soak go test ./e2e -run '^$' -bench Soak -benchtime 1x -timeout 40m
func BenchmarkSoak(b *testing.B) {
	length, rate := 20*time.Minute, 5.0
	if v := os.Getenv("TANDEM_SOAK"); v != "" {
		var err error
		length, err = time.ParseDuration(v)
		require.NoError(b, err, "TANDEM_SOAK is a duration such as 20m")
	}
	if v := os.Getenv("TANDEM_SOAK_RATE"); v != "" {
		var err error
		rate, err = strconv.ParseFloat(v, 64)
		require.NoError(b, err, "TANDEM_SOAK_RATE is runs a second")
	}
	out := os.Getenv("TANDEM_SOAK_OUT")
	if out == "" {
		out = b.TempDir()
	}
	require.NoError(b, os.MkdirAll(out, 0o755))

	td := startTandem(b)
	model := scriptedOllama(b, ticketAnswers("low"))
	queue := "e2e-soak-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	health := freeAddr(b)
	cmd := exec.Command(buildWorker(b))
	cmd.Env = append(workerEnv(td.servers, queue, model.URL, "scripted", filepath.Join(b.TempDir(), "t.db"), b.TempDir()),
		"TANDEM_MODEL_PARALLEL=4", "TANDEM_LOG_LEVEL=warn", "TANDEM_HEALTH_ADDR="+health, "TANDEM_SEED_FILE="+filepath.Join("..", "testdata", "seed.sql"))
	require.NoError(b, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	require.Eventually(b, ready(health, "temporal", "store", "ollama"), time.Minute, 200*time.Millisecond, "the worker is ready")

	c := td.servers.Client(b)
	ctx := context.Background()
	input := workflows.TicketRoutingInput{Ticket: benchTicket, Model: workflows.ModelSettings{Model: "scripted", TaskQueue: queue + "-model"}}
	var (
		mu        sync.Mutex
		latencies []time.Duration // of runs completed in the current window
		failures  []error
		wg        sync.WaitGroup
	)
	start := func() {
		t0 := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, workflows.TicketRoutingName, input)
		if err == nil {
			err = run.Get(ctx, nil)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures = append(failures, err)
			return
		}
		latencies = append(latencies, time.Since(t0))
	}
	sample := func(at time.Duration) soakSample {
		metric := scrape(b, "http://"+health+"/metrics")
		mu.Lock()
		window := latencies
		latencies = nil
		mu.Unlock()
		slices.Sort(window)
		s := soakSample{At: at, RSSMB: float64(residentKB(b, cmd.Process.Pid, "VmRSS")) / 1024, Goroutines: metric("go_goroutines", nil),
			Completed: len(window)}
		if len(window) > 0 {
			s.P50, s.P99 = window[len(window)/2], window[min(len(window)-1, len(window)*99/100)]
		}
		return s
	}

	began := time.Now()
	every := time.Duration(float64(time.Second) / rate)
	tick, window := time.NewTicker(every), time.NewTicker(10*time.Second)
	defer tick.Stop()
	defer window.Stop()
	var samples []soakSample
	started := 0
	for time.Since(began) < length {
		select {
		case <-tick.C:
			started++
			wg.Go(start)
		case <-window.C:
			s := sample(time.Since(began))
			samples = append(samples, s)
			b.Logf("%5s: %3d done, p50 %s, p99 %s, RSS %.0f MB, %.0f goroutines", s.At.Round(time.Second), s.Completed,
				s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond), s.RSSMB, s.Goroutines)
		}
	}
	wg.Wait()
	samples = append(samples, sample(time.Since(began)))
	require.Empty(b, failures, "no run may be lost or fail")

	var csv strings.Builder
	csv.WriteString("seconds,completed,p50_ms,p99_ms,rss_mb,goroutines\n")
	for _, s := range samples {
		fmt.Fprintf(&csv, "%.0f,%d,%d,%d,%.1f,%.0f\n", s.At.Seconds(), s.Completed, s.P50.Milliseconds(), s.P99.Milliseconds(), s.RSSMB, s.Goroutines)
	}
	require.NoError(b, os.WriteFile(filepath.Join(out, "soak.csv"), []byte(csv.String()), 0o644))
	require.NoError(b, os.WriteFile(filepath.Join(out, "soak.svg"), []byte(soakSVG(samples, rate)), 0o644))
	b.ReportMetric(float64(started)/time.Since(began).Seconds(), "runs/s")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d runs in %s, none lost; samples in %s", started, time.Since(began).Round(time.Second), out)
}

// soakSVG plots a soak's samples: p50 and p99 latency, resident memory and
// goroutines, each in a panel of its own over the minutes of the soak.
func soakSVG(samples []soakSample, rate float64) string {
	const width, panel, left, top = 720.0, 150.0, 60.0, 30.0
	type series struct {
		name, unit, color string
		value             func(soakSample) float64
	}
	panels := [][]series{
		{{"p99 latency", "ms", "#c0392b", func(s soakSample) float64 { return float64(s.P99.Milliseconds()) }},
			{"p50 latency", "ms", "#2980b9", func(s soakSample) float64 { return float64(s.P50.Milliseconds()) }}},
		{{"worker resident memory", "MB", "#27ae60", func(s soakSample) float64 { return s.RSSMB }}},
		{{"worker goroutines", "", "#8e44ad", func(s soakSample) float64 { return s.Goroutines }}},
	}
	end := samples[len(samples)-1].At.Minutes()
	var b strings.Builder
	height := top + float64(len(panels))*(panel+40)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="14">Ticket routing at %.0f runs/s for %.0f minutes (scripted model)</text>`+"\n", left, rate, end)
	for i, group := range panels {
		y0 := top + float64(i)*(panel+40)
		peak := 0.0
		for _, s := range samples {
			for _, se := range group {
				peak = max(peak, se.value(s))
			}
		}
		peak = max(peak*1.1, 1)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", left, y0, width-left-20, panel)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%.0f</text><text x="%.0f" y="%.0f" text-anchor="end">0</text>`+"\n",
			left-4, y0+10, peak, left-4, y0+panel)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">0 min</text><text x="%.0f" y="%.0f" text-anchor="end">%.0f min</text>`+"\n",
			left, y0+panel+14, width-20, y0+panel+14, end)
		for k, se := range group {
			var pts []string
			for _, s := range samples {
				x := left + (width-left-20)*s.At.Minutes()/max(end, 1e-9)
				y := y0 + panel - panel*se.value(s)/peak
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", se.color, strings.Join(pts, " "))
			label := se.name
			if se.unit != "" {
				label += " (" + se.unit + ")"
			}
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`+"\n", left+8+float64(k)*180, y0+14, se.color, label)
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}
