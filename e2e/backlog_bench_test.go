package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/workflows"
)

// BenchmarkModelBacklog builds a backlog of 100 model calls behind a model
// server that is down, brings it back, and measures from the runs'
// histories how long the oldest call waited, how long calls waited once the
// server was back, and how many started out of the order they were
// scheduled in. Run with -benchtime=1x.
func BenchmarkModelBacklog(b *testing.B) {
	const backlog = 100
	td := startTandem(b)
	model := scriptedOllama(b, func(format, last string) string {
		if strings.Contains(format, `"category"`) {
			return `{"category":"shipping","priority":"low","sentiment":"neutral","language":"en","summary":"late"}`
		}
		return "We are on it."
	})
	proxy := newOutage(b, strings.TrimPrefix(model.URL, "http://"))
	cfg := td.cfg
	cfg.OllamaHost, cfg.Model, cfg.ModelParallel = "http://"+proxy.addr, "scripted", 2
	cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-backlog", "e2e-backlog-model"
	c := td.servers.Client(b)
	startWorkers(b, c, cfg, td.records)
	tc := api.NewClient(c, cfg.TaskQueue)

	for i := 0; i < b.N; i++ {
		proxy.down()
		var runs []*api.Run[workflows.TicketRoutingResult]
		for j := range backlog {
			run, err := tc.StartTicketRouting(context.Background(), api.WorkflowID("ticket-routing", fmt.Sprintf("backlog-%d-%d-%d", time.Now().UnixNano(), i, j)),
				workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: fmt.Sprintf("Parcel %d", j), Body: "Late.", Customer: "Priya Raman", Channel: "chat"}})
			require.NoError(b, err)
			runs = append(runs, run)
		}
		time.Sleep(5 * time.Second)
		up := time.Now()
		proxy.up(b)
		for _, run := range runs {
			_, err := run.Result(context.Background())
			require.NoError(b, err)
		}
		type call struct{ scheduled, started time.Time }
		var calls []call
		for _, run := range runs {
			var sch time.Time
			iter := c.GetWorkflowHistory(context.Background(), run.ID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for iter.HasNext() {
				ev, err := iter.Next()
				require.NoError(b, err)
				if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Chat" && sch.IsZero() {
					sch = ev.GetEventTime().AsTime()
				}
				if ev.GetActivityTaskStartedEventAttributes() != nil && !sch.IsZero() {
					calls = append(calls, call{sch, ev.GetEventTime().AsTime()})
					break
				}
			}
		}
		slices.SortFunc(calls, func(a, b call) int { return a.scheduled.Compare(b.scheduled) })
		var oldest, maxAfter time.Duration
		inversions := 0
		for k, cl := range calls {
			oldest = max(oldest, cl.started.Sub(cl.scheduled))
			if cl.started.After(up) {
				maxAfter = max(maxAfter, cl.started.Sub(up))
			}
			for _, later := range calls[k+1:] {
				if later.started.Before(cl.started) {
					inversions++
				}
			}
		}
		b.ReportMetric(float64(oldest.Milliseconds()), "oldest-wait-ms")
		b.ReportMetric(float64(maxAfter.Milliseconds()), "last-start-after-recovery-ms")
		b.ReportMetric(float64(inversions), "out-of-order-pairs")
		b.Logf("%d first model calls: longest wait %s (5 s of it the outage); every call started within %s of recovery; %d of %d pairs out of order",
			len(calls), oldest.Round(time.Millisecond), maxAfter.Round(time.Millisecond), inversions, len(calls)*(len(calls)-1)/2)
	}
}
