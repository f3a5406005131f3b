package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/schema"
)

// oneModelCall is a workflow of one call to Tandem's model activity, on
// Tandem's model task queue.
func oneModelCall(ctx workflow.Context, queue string, req activities.ChatRequest) (activities.ChatResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: queue, StartToCloseTimeout: 5 * time.Minute})
	var res activities.ChatResult
	err := workflow.ExecuteActivity(ctx, "Chat", req).Get(ctx, &res)
	return res, err
}

var benchSchema = schema.Object(
	schema.Prop("category", schema.Enum("what the ticket is about", "billing", "technical", "shipping", "other")),
	schema.Prop("summary", schema.String("one sentence", 300)),
)

func benchRequest(model string) activities.ChatRequest {
	return activities.ChatRequest{Purpose: "benchmark", Model: model, Schema: benchSchema, Options: activities.ModelOptions{MaxTokens: 96},
		Messages: []activities.Message{
			{Role: "system", Content: "Classify the support ticket and summarise it. Answer with JSON only."},
			{Role: "user", Content: "Subject: Charged twice\n\nMy statement shows two charges of 49 EUR for the March subscription on the same day."}}}
}

// BenchmarkModelBound sends the same structured model calls to the real
// Ollama server with the test model, the same number in flight both ways:
// through Tandem (a workflow per call, the call on Tandem's model task queue
// and worker, bounded to TANDEM_MODEL_PARALLEL) and directly (the Ollama Go
// client), at 1, 2 and 4 calls in flight. Each iteration runs both, in
// alternating order; it reports output tokens per second both ways over all
// iterations, and their ratio; and how many of the machine's cores the model
// server kept busy both ways, and the Temporal server and the worker beside
// it through Tandem (from /proc). The test Ollama serves
// TANDEM_TEST_OLLAMA_PARALLEL requests at once (4 unless set).
//
//	go test ./e2e -run '^$' -bench ModelBound -benchtime 5x
func BenchmarkModelBound(b *testing.B) {
	for _, parallel := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("inflight=%d", parallel), func(b *testing.B) { benchModelBound(b, parallel) })
	}
}

func benchModelBound(b *testing.B, parallel int) {
	td := startTandemWith(b, func(c *config.Config) { c.ModelParallel = parallel })
	c := td.servers.Client(b)
	ctx := context.Background()
	calls := benchRuns(48)
	req := benchRequest(td.cfg.Model)

	wfQueue := td.cfg.TaskQueue + "-modelbound"
	w := worker.New(c, wfQueue, worker.Options{})
	w.RegisterWorkflow(oneModelCall)
	require.NoError(b, w.Start())
	defer w.Stop()

	u, err := url.Parse(td.cfg.OllamaHost)
	require.NoError(b, err)
	ollama := api.NewClient(u, http.DefaultClient)
	directCall := func() int {
		var tokens int
		err := ollama.Chat(ctx, &api.ChatRequest{Model: req.Model, Format: req.Schema, Messages: []api.Message{
			{Role: req.Messages[0].Role, Content: req.Messages[0].Content}, {Role: req.Messages[1].Role, Content: req.Messages[1].Content}},
			Options: map[string]any{"temperature": 0.0, "seed": 42, "num_predict": req.Options.MaxTokens, "num_ctx": 4096},
		}, func(r api.ChatResponse) error {
			if r.Done {
				tokens = r.EvalCount
			}
			return nil
		})
		require.NoError(b, err)
		return tokens
	}
	direct := func() int { // calls at most parallel at a time
		var mu sync.Mutex
		var wg sync.WaitGroup
		total := 0
		next := make(chan struct{}, calls)
		for range calls {
			next <- struct{}{}
		}
		close(next)
		for range parallel {
			wg.Go(func() {
				for range next {
					n := directCall()
					mu.Lock()
					total += n
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return total
	}
	throughTandem := func() int { // all started at once; the model worker bounds them
		runs := make([]client.WorkflowRun, calls)
		for k := range calls {
			runs[k], err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: wfQueue}, oneModelCall, td.cfg.ModelTaskQueue, req)
			require.NoError(b, err)
		}
		total := 0
		for _, run := range runs {
			var res activities.ChatResult
			require.NoError(b, run.Get(ctx, &res))
			total += res.Call.OutputTokens
		}
		return total
	}
	group := td.servers.ModelServerGroup()
	var directTokens, tandemTokens int
	var directWall, tandemWall time.Duration
	var directCPU, tandemCPU cpuTime
	timed := func(f func() int, tokens *int, wall *time.Duration, cpu *cpuTime) {
		t0, cpu0 := time.Now(), readCPU(b, group)
		*tokens += f()
		*wall += time.Since(t0)
		*cpu = cpu.plus(readCPU(b, group).minus(cpu0))
	}
	directCall() // load the model

	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			timed(direct, &directTokens, &directWall, &directCPU)
		}
		timed(throughTandem, &tandemTokens, &tandemWall, &tandemCPU)
		if i%2 == 1 {
			timed(direct, &directTokens, &directWall, &directCPU)
		}
	}
	directRate, tandemRate := float64(directTokens)/directWall.Seconds(), float64(tandemTokens)/tandemWall.Seconds()
	b.ReportMetric(directRate, "direct-tok/s")
	b.ReportMetric(tandemRate, "tandem-tok/s")
	b.ReportMetric(tandemRate/directRate, "ratio")
	// Where the two cores went: the model server's share both ways, and
	// what the Temporal server and the worker took beside it.
	cores := func(d, wall time.Duration) float64 { return d.Seconds() / wall.Seconds() }
	b.ReportMetric(cores(directCPU.model, directWall), "direct-model-cores")
	b.ReportMetric(cores(tandemCPU.model, tandemWall), "tandem-model-cores")
	b.ReportMetric(cores(tandemCPU.temporal+tandemCPU.self, tandemWall), "tandem-orchestration-cores")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d× %d calls, %d in flight: direct %d tokens in %s (%.0f tok/s), through Tandem %d tokens in %s (%.0f tok/s), ratio %.2f",
		b.N, calls, parallel, directTokens, directWall.Round(time.Millisecond), directRate, tandemTokens, tandemWall.Round(time.Millisecond), tandemRate, tandemRate/directRate)
	b.Logf("CPU: the model server %s direct, %s through Tandem (%.0f and %.0f tokens per CPU second); beside it, through Tandem, the Temporal server %s and the worker %s",
		directCPU.model.Round(10*time.Millisecond), tandemCPU.model.Round(10*time.Millisecond),
		float64(directTokens)/directCPU.model.Seconds(), float64(tandemTokens)/tandemCPU.model.Seconds(),
		tandemCPU.temporal.Round(10*time.Millisecond), tandemCPU.self.Round(10*time.Millisecond))
}
