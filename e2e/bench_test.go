package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/workflows"
)

// benchSteps is the number of steps of each measured run.
const benchSteps = 50

// bareSteps is the baseline: a workflow of n sequential no-op activities,
// on the workflow's task queue (eager) or on another one (queue).
func bareSteps(ctx workflow.Context, n int, queue string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second, TaskQueue: queue})
	for range n {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

// BenchmarkStep measures one step of orchestration on the real dev server,
// model time excluded (the scripted model answers at once), of six kinds:
// a bare no-op activity on the workflow's own task queue, dispatched
// eagerly (bare-same-queue), and on another queue, as Tandem's model calls
// are (bare-other-queue); the bare shape of an agent step, an activity on
// another queue and a local activity (bare-pair), and the same carrying 500
// bytes each (bare-pair-500B); and agent steps whose tool is a local
// activity (agent-calculate) or an activity (agent-send-message). Each
// iteration runs one workflow of benchSteps steps of every kind, in an
// order that rotates, so that the machine's drift over minutes weighs on
// every kind alike. It reports milliseconds and history bytes per step of
// each kind, and the median over iterations of agent-calculate against
// bare-other-queue and against bare-pair-500B.
//
//	go test ./e2e -run '^$' -bench Step -benchtime 20x
func BenchmarkStep(b *testing.B) {
	td, c := scriptedTandem(b, "bench", calculatingAgent(1<<40))
	tdSend, cSend := scriptedTandem(b, "bench-send", sendingAgent())
	bare := worker.New(c, "e2e-bench-bare", worker.Options{})
	bare.RegisterWorkflow(bareSteps)
	bare.RegisterWorkflow(bareShape)
	bare.RegisterActivity(noop)
	bare.RegisterActivity(echo)
	require.NoError(b, bare.Start())
	defer bare.Stop()
	other := worker.New(c, "e2e-bench-other", worker.Options{DisableWorkflowWorker: true})
	other.RegisterActivity(noop)
	other.RegisterActivity(echo)
	require.NoError(b, other.Start())
	defer other.Stop()

	bareRun := func(workflow any, args ...any) func() (client.WorkflowRun, error) {
		return func() (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: "e2e-bench-bare"}, workflow, args...)
		}
	}
	var shape []stepKind
	for range benchSteps {
		shape = append(shape, otherStep, localStep)
	}
	agentRun := func(td *tandem, c client.Client, tool string) func() (client.WorkflowRun, error) {
		policy := workflows.AgentPolicy{Tools: []string{tool}, MaxSteps: benchSteps, MaxTokens: 1 << 30, Deadline: time.Hour, ContextSize: 1 << 20}
		tc := api.NewClient(c, td.cfg.TaskQueue)
		return func() (client.WorkflowRun, error) {
			run, err := tc.StartAgent(context.Background(), api.WorkflowID("agent", fmt.Sprintf("bench-%s-%d", tool, time.Now().UnixNano())),
				workflows.AgentInput{Goal: "benchmark", Profile: longRunProfile, Policy: &policy,
					Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
			if err != nil {
				return nil, err
			}
			return run.Run, nil
		}
	}
	kinds := []*stepKindRuns{
		{name: "bare-same-queue", c: c, start: bareRun(bareSteps, benchSteps, "")},
		{name: "bare-other-queue", c: c, start: bareRun(bareSteps, benchSteps, "e2e-bench-other")},
		{name: "bare-pair", c: c, start: bareRun(bareShape, shape, "e2e-bench-other", 0)},
		{name: "bare-pair-500B", c: c, start: bareRun(bareShape, shape, "e2e-bench-other", 500)},
		{name: "agent-calculate", c: c, start: agentRun(td, c, "calculate")},
		{name: "agent-send-message", c: cSend, start: agentRun(tdSend, cSend, "send_message")},
	}
	for i := 0; i < b.N; i++ {
		for k := range kinds {
			kinds[(i+k)%len(kinds)].runOnce(b)
		}
	}
	bareOther, pair, agent := kinds[1], kinds[3], kinds[4]
	var vsBare, vsPair []float64
	for i := range agent.msPerStep {
		vsBare = append(vsBare, agent.msPerStep[i]/bareOther.msPerStep[i])
		vsPair = append(vsPair, agent.msPerStep[i]/pair.msPerStep[i])
	}
	var sizes []string
	for _, k := range kinds {
		b.ReportMetric(k.mean(), k.name+"-ms/step")
		sizes = append(sizes, fmt.Sprintf("%s %.0f", k.name, float64(k.bytes)/float64(len(k.msPerStep)*benchSteps)))
	}
	b.Logf("history bytes per step: %s", strings.Join(sizes, ", "))
	b.ReportMetric(median(vsBare), "agent/bare-x")
	b.ReportMetric(median(vsPair), "agent/pair-x")
	b.Logf("agent step (calculate) against the bare no-op on another queue: median %.2fx (%.2f-%.2f)", median(vsBare), slices.Min(vsBare), slices.Max(vsBare))
	b.Logf("agent step (calculate) against the bare shape with its bytes:    median %.2fx (%.2f-%.2f)", median(vsPair), slices.Min(vsPair), slices.Max(vsPair))
	b.ReportMetric(0, "ns/op")
}

// stepKindRuns is one kind of step BenchmarkStep measures, and what its
// runs measured.
type stepKindRuns struct {
	name      string
	c         client.Client
	start     func() (client.WorkflowRun, error)
	msPerStep []float64 // each run's
	bytes     int       // history bytes, all runs
}

// runOnce runs one workflow of the kind to its end and records its time
// per step and its history bytes.
func (k *stepKindRuns) runOnce(b *testing.B) {
	t0 := time.Now()
	run, err := k.start()
	require.NoError(b, err)
	require.NoError(b, run.Get(context.Background(), nil))
	k.msPerStep = append(k.msPerStep, float64(time.Since(t0).Microseconds())/1000/benchSteps)
	k.bytes += historyBytes(b, k.c, run)
}

func (k *stepKindRuns) mean() float64 {
	var sum float64
	for _, ms := range k.msPerStep {
		sum += ms
	}
	return sum / float64(len(k.msPerStep))
}

// historyBytes is the size of a run's history.
func historyBytes(b *testing.B, c client.Client, run client.WorkflowRun) int {
	var bytes int
	for _, ev := range history(b, c, run.GetID(), run.GetRunID()) {
		bytes += proto.Size(ev)
	}
	return bytes
}

// sendingAgent sends a message every step.
func sendingAgent() func(format, last string) string {
	return func(string, string) string {
		return `{"thought":"tell them","action":{"tool":"send_message","args":{"customerId":"C-100","subject":"Update","body":"We are on it."}}}`
	}
}

// median is the middle of xs (the mean of the two middle ones when even).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
