package e2e

import (
	"bufio"
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
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/workflows"
)

// benchRuns is how many runs a throughput benchmark starts at once;
// TANDEM_BENCH_RUNS overrides it.
func benchRuns(fallback int) int {
	if n, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return fallback
}

// ticketAnswers is an instant model for ticket routing: a classification
// with the given priority, and a short reply.
func ticketAnswers(priority string) func(format, last string) string {
	return func(format, _ string) string {
		if strings.Contains(format, `"priority"`) {
			return `{"category":"billing","priority":"` + priority + `","sentiment":"neutral","language":"en","summary":"charged twice"}`
		}
		return "Thank you; we are refunding the duplicate charge."
	}
}

var benchTicket = workflows.Ticket{Subject: "Charged twice", Body: "Two charges of 49 EUR in March.", Customer: "Acme", Channel: "email"}

// stepKind is one step of a workflow's shape: a local activity, an activity
// on the workflow's own task queue or on another queue, or a visibility
// write (a search-attribute or a memo upsert).
type stepKind string

const (
	localStep  stepKind = "local"
	sameStep   stepKind = "same"
	otherStep  stepKind = "other"
	upsertStep stepKind = "upsert"
	memoStep   stepKind = "memo"
)

// bareShape is the baseline for a Tandem workflow: no-op steps of the same
// kinds, in the same order, on the same kinds of task queue. With payload,
// each activity also returns that many bytes, as a decision or a record
// would.
func bareShape(ctx workflow.Context, shape []stepKind, otherQueue string, payload int) error {
	for _, k := range shape {
		var f workflow.Future
		switch k {
		case localStep:
			f = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx,
				workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second}), echo, payload)
		case sameStep:
			f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx,
				workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second}), echo, payload)
		case otherStep:
			f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx,
				workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second, TaskQueue: otherQueue}), echo, payload)
		case upsertStep:
			if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.StatusKey.ValueSet("bare")); err != nil {
				return err
			}
			continue
		case memoStep:
			if err := workflow.UpsertMemo(ctx, map[string]any{"bare": len(shape)}); err != nil {
				return err
			}
			continue
		}
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// echo returns n bytes.
func echo(_ context.Context, n int) (string, error) { return strings.Repeat("x", n), nil }

// withoutVisibilityWrites is shape with its activities only.
func withoutVisibilityWrites(shape []stepKind) []stepKind {
	return slices.DeleteFunc(slices.Clone(shape), func(k stepKind) bool { return k == upsertStep || k == memoStep })
}

// shapeOf reads a finished run's steps from its history.
func shapeOf(t testing.TB, c client.Client, id, runID, ownQueue string) []stepKind {
	var shape []stepKind
	iter := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		switch {
		case ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity":
			shape = append(shape, localStep)
		case ev.GetActivityTaskScheduledEventAttributes() != nil:
			if ev.GetActivityTaskScheduledEventAttributes().GetTaskQueue().GetName() == ownQueue {
				shape = append(shape, sameStep)
			} else {
				shape = append(shape, otherStep)
			}
		case ev.GetUpsertWorkflowSearchAttributesEventAttributes() != nil:
			shape = append(shape, upsertStep)
		case ev.GetWorkflowPropertiesModifiedEventAttributes() != nil:
			shape = append(shape, memoStep)
		}
	}
	return shape
}

// timeSpent sums, over runs, how long each kind of step waited to start
// and ran, from their histories, and returns it as a line per kind.
func timeSpent(t testing.TB, c client.Client, runs []client.WorkflowRun) string {
	type spent struct {
		n             int
		waited, taken time.Duration
	}
	by := map[string]*spent{}
	for _, run := range runs {
		scheduled := map[int64]time.Time{}
		names := map[int64]string{}
		var started time.Time
		iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			at := ev.GetEventTime().AsTime()
			switch {
			case ev.GetActivityTaskScheduledEventAttributes() != nil:
				scheduled[ev.GetEventId()], names[ev.GetEventId()] = at, ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			case ev.GetWorkflowTaskScheduledEventAttributes() != nil:
				scheduled[ev.GetEventId()], names[ev.GetEventId()] = at, "workflow task"
			case ev.GetActivityTaskStartedEventAttributes() != nil:
				started = at
			case ev.GetWorkflowTaskStartedEventAttributes() != nil:
				started = at
			case ev.GetActivityTaskCompletedEventAttributes() != nil, ev.GetWorkflowTaskCompletedEventAttributes() != nil:
				id := ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId() + ev.GetWorkflowTaskCompletedEventAttributes().GetScheduledEventId()
				s := by[names[id]]
				if s == nil {
					s = &spent{}
					by[names[id]] = s
				}
				s.n++
				s.waited += started.Sub(scheduled[id])
				s.taken += at.Sub(started)
			}
		}
	}
	var lines []string
	for name, s := range by {
		lines = append(lines, fmt.Sprintf("%s: waited %s, ran %s", name, (s.waited/time.Duration(s.n)).Round(10*time.Microsecond), (s.taken/time.Duration(s.n)).Round(10*time.Microsecond)))
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

// startAndWait starts n runs at once and waits for all of them; it returns
// the wall time and how many ended in error.
func startAndWait(t testing.TB, n int, start func(i int) (client.WorkflowRun, error)) (time.Duration, int, []client.WorkflowRun) {
	t0 := time.Now()
	runs := make([]client.WorkflowRun, n)
	for i := range n {
		run, err := start(i)
		require.NoError(t, err)
		runs[i] = run
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for _, run := range runs {
		wg.Go(func() {
			if err := run.Get(context.Background(), nil); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return time.Since(t0), failed, runs
}

// BenchmarkThroughput starts N ticket routings at once (the scripted model
// answers instantly, and the review is not needed), then N bare workflows of
// the same shape — the same local activities and activities, in the same
// order, on the same kinds of task queue, with the other queue's worker as
// bounded as Tandem's model worker — and N of the same shape with ticket
// routing's visibility writes too (its search-attribute and memo upserts),
// each round in an order that rotates, and reports the three throughputs
// and Tandem's ratio to each. A lost or failed run fails the benchmark.
//
//	go test ./e2e -run '^$' -bench '^BenchmarkThroughput$' -benchtime 3x
func BenchmarkThroughput(b *testing.B) {
	// The scripted model answers at once, so many calls may run together;
	// the bare workflow's other queue gets the same bound.
	td, c := scriptedTandemWith(b, "throughput", ticketAnswers("normal"), 32)
	n := benchRuns(200)
	ctx := context.Background()
	input := workflows.TicketRoutingInput{Ticket: benchTicket, Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}}
	probe, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: td.cfg.TaskQueue}, workflows.TicketRoutingName, input)
	require.NoError(b, err)
	require.NoError(b, probe.Get(ctx, nil))
	withVisibility := shapeOf(b, c, probe.GetID(), probe.GetRunID(), td.cfg.TaskQueue)
	shape := withoutVisibilityWrites(withVisibility)
	b.Logf("ticket routing's shape: %v", withVisibility)

	bare := worker.New(c, "e2e-throughput-bare", worker.Options{MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 8})
	bare.RegisterWorkflow(bareShape)
	bare.RegisterActivity(echo)
	other := worker.New(c, "e2e-throughput-bare-other", worker.Options{DisableWorkflowWorker: true,
		MaxConcurrentActivityExecutionSize: td.cfg.ModelParallel, MaxConcurrentActivityTaskPollers: max(2, td.cfg.ModelParallel)})
	other.RegisterActivity(echo)
	require.NoError(b, bare.Start())
	defer bare.Stop()
	require.NoError(b, other.Start())
	defer other.Stop()

	startBare := func(shape []stepKind) func(int) (client.WorkflowRun, error) {
		return func(int) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "e2e-throughput-bare"}, bareShape, shape, "e2e-throughput-bare-other", 0)
		}
	}
	var bareTotal, visibleTotal, tandemTotal time.Duration
	for i := 0; i < b.N; i++ {
		// The three in an order that rotates each round, so that the
		// server's store growing over the rounds weighs on each alike.
		var bareWall, visibleWall, tandemWall time.Duration
		var bareRuns, tandemRuns []client.WorkflowRun
		phases := []func() int{
			func() (failed int) { bareWall, failed, bareRuns = startAndWait(b, n, startBare(shape)); return failed },
			func() (failed int) {
				visibleWall, failed, _ = startAndWait(b, n, startBare(withVisibility))
				return failed
			},
			func() (failed int) {
				tandemWall, failed, tandemRuns = startAndWait(b, n, func(int) (client.WorkflowRun, error) {
					return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: td.cfg.TaskQueue}, workflows.TicketRoutingName, input)
				})
				return failed
			},
		}
		failed := 0
		for k := range phases {
			failed += phases[(i+k)%len(phases)]()
		}
		require.Zero(b, failed, "no run may be lost or fail")
		bareTotal, visibleTotal, tandemTotal = bareTotal+bareWall, visibleTotal+visibleWall, tandemTotal+tandemWall
		rate := func(wall time.Duration) float64 { return float64(n) / wall.Seconds() }
		b.Logf("%d runs: bare %.1f runs/s, bare with the visibility writes %.1f runs/s, Tandem ticket routing %.1f runs/s, ratio %.2f and %.2f; per step, bare: %s; Tandem: %s",
			n, rate(bareWall), rate(visibleWall), rate(tandemWall), bareWall.Seconds()/tandemWall.Seconds(), visibleWall.Seconds()/tandemWall.Seconds(),
			timeSpent(b, c, bareRuns[:50]), timeSpent(b, c, tandemRuns[:50]))
	}
	runs := float64(b.N * n)
	b.ReportMetric(runs/bareTotal.Seconds(), "bare-runs/s")
	b.ReportMetric(runs/visibleTotal.Seconds(), "bare+visibility-runs/s")
	b.ReportMetric(runs/tandemTotal.Seconds(), "tandem-runs/s")
	b.ReportMetric(bareTotal.Seconds()/tandemTotal.Seconds(), "ratio")
	b.ReportMetric(visibleTotal.Seconds()/tandemTotal.Seconds(), "ratio-to-bare+visibility")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWorkerMemory starts the real worker binary, then N ticket
// routings (TANDEM_BENCH_RUNS, 1,000), eight starts at a time, that each
// stop at a person's review (the scripted model says high priority), so
// all N are open at once in the worker's cache, and reports the time to
// start them and the worker's peak resident memory.
//
//	TANDEM_BENCH_RUNS=10000 go test ./e2e -run '^$' -bench WorkerMemory -benchtime 1x -timeout 60m
func BenchmarkWorkerMemory(b *testing.B) {
	td := startTandem(b)
	model := scriptedOllama(b, ticketAnswers("high"))
	queue := "e2e-memory-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	n := benchRuns(1000)

	cmd := exec.Command(buildWorker(b))
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+td.cfg.TemporalAddress, "TANDEM_TASK_QUEUE="+queue,
		"TANDEM_MODEL_TASK_QUEUE="+queue+"-model", "OLLAMA_HOST="+model.URL, "TANDEM_MODEL=scripted", "TANDEM_MODEL_PARALLEL=4",
		"TANDEM_DB="+filepath.Join(b.TempDir(), "t.db"), "TANDEM_LOG_LEVEL=warn")
	require.NoError(b, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(2 * time.Second)
	idle := residentKB(b, cmd.Process.Pid, "VmRSS")

	c := td.servers.Client(b)
	ctx := context.Background()
	ticket := benchTicket
	ticket.Email = "ops@acme.example" // a reply with an address, so a high priority waits for its review
	input := workflows.TicketRoutingInput{Ticket: ticket, Model: workflows.ModelSettings{Model: "scripted", TaskQueue: queue + "-model"}}
	ids := make([]string, n)
	t0 := time.Now()
	var starters sync.WaitGroup
	next := make(chan int)
	for range 8 { // eight clients' worth of starts at once
		starters.Go(func() {
			for i := range next {
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, workflows.TicketRoutingName, input)
				if err == nil {
					ids[i] = run.GetID()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	starters.Wait()
	require.NotContains(b, ids, "", "every run started")
	startedIn := time.Since(t0)
	waiting := 0
	for time.Since(t0) < 30*time.Minute {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("TaskQueue = '%s' AND TandemWaiting = true AND ExecutionStatus = 'Running'", queue)})
		require.NoError(b, err)
		if waiting = int(resp.GetCount()); waiting == n {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	require.Equal(b, n, waiting, "every run reached its review")
	peak := residentKB(b, cmd.Process.Pid, "VmHWM")
	b.ReportMetric(float64(peak)/1024, "peak-MB")
	b.ReportMetric(float64(peak-idle)/float64(n), "KB/run")
	b.ReportMetric(startedIn.Seconds(), "start-s")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d open ticket routings started in %s, reached their review in %s; worker RSS idle %d MB, peak %d MB (%.0f KB a run)",
		n, startedIn.Round(time.Millisecond), time.Since(t0).Round(time.Second), idle/1024, peak/1024, float64(peak-idle)/float64(n))
	for _, id := range ids {
		_ = c.TerminateWorkflow(ctx, id, "", "benchmark finished")
	}
}

// residentKB reads a memory figure (VmRSS, VmHWM) of a process, in KB.
func residentKB(t testing.TB, pid int, field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			require.NoError(t, err)
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
