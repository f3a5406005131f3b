package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
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
// model time excluded (the scripted model answers at once): a bare no-op
// activity step on the workflow's own task queue (dispatched eagerly) and on
// another queue (as Tandem's model calls are), and agent steps whose tool is
// a local activity (calculate) or an activity (send_message). It reports
// milliseconds and history bytes per step.
//
//	go test ./e2e -run '^$' -bench Step -benchtime 5x
func BenchmarkStep(b *testing.B) {
	td, c := scriptedTandem(b, "bench", calculatingAgent(1<<40))
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

	for _, bare := range []struct{ name, queue string }{{"bare-activity-same-queue", ""}, {"bare-activity-other-queue", "e2e-bench-other"}} {
		name, queue := bare.name, bare.queue
		b.Run(name, func(b *testing.B) {
			measure(b, c, func(i int) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: "e2e-bench-bare"}, bareSteps, benchSteps, queue)
			})
		})
	}
	// An agent step with a local-activity tool is an activity on another
	// queue and a local activity: the same two, bare; and the same two
	// carrying about the bytes an agent step adds to history (its decision
	// and the tool's observation), 500 bytes each.
	var shape []stepKind
	for range benchSteps {
		shape = append(shape, otherStep, localStep)
	}
	for _, pair := range []struct {
		name    string
		payload int
	}{{"bare-activity-other-queue-plus-local-activity", 0}, {"bare-activity-other-queue-plus-local-activity-500B-each", 500}} {
		b.Run(pair.name, func(b *testing.B) {
			measure(b, c, func(i int) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: "e2e-bench-bare"}, bareShape, shape, "e2e-bench-other", pair.payload)
			})
		})
	}
	for _, tool := range []string{"calculate", "send_message"} {
		b.Run("agent-"+tool, func(b *testing.B) {
			td2, c2 := td, c
			if tool == "send_message" {
				td2, c2 = scriptedTandem(b, "bench-send", sendingAgent())
			}
			policy := workflows.AgentPolicy{Tools: []string{tool}, MaxSteps: benchSteps, MaxTokens: 1 << 30, Deadline: time.Hour, ContextSize: 1 << 20}
			tc := api.NewClient(c2, td2.cfg.TaskQueue)
			measure(b, c2, func(i int) (client.WorkflowRun, error) {
				run, err := tc.StartAgent(context.Background(), api.WorkflowID("agent", fmt.Sprintf("bench-%s-%d-%d", tool, time.Now().UnixNano(), i)),
					workflows.AgentInput{Goal: "benchmark", Profile: longRunProfile, Policy: &policy,
						Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td2.cfg.ModelTaskQueue}})
				if err != nil {
					return nil, err
				}
				return run.Run, nil
			})
		})
	}
}

// sendingAgent sends a message every step.
func sendingAgent() func(format, last string) string {
	return func(string, string) string {
		return `{"thought":"tell them","action":{"tool":"send_message","args":{"customerId":"C-100","subject":"Update","body":"We are on it."}}}`
	}
}

// measure runs b.N workflows one after another and reports per-step time
// and history size.
func measure(b *testing.B, c client.Client, start func(i int) (client.WorkflowRun, error)) {
	var bytes int
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		run, err := start(i)
		require.NoError(b, err)
		require.NoError(b, run.Get(context.Background(), nil))
		elapsed += time.Since(t0)
		iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(b, err)
			bytes += proto.Size(ev)
		}
	}
	steps := float64(b.N * benchSteps)
	b.ReportMetric(float64(elapsed.Microseconds())/1000/steps, "ms/step")
	b.ReportMetric(float64(bytes)/steps, "history-B/step")
	b.ReportMetric(0, "ns/op")
}
