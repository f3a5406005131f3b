package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// routeTickets starts n ticket routings at once on queue and waits for
// them all; a lost or failed run fails the benchmark. It returns runs/s.
func routeTickets(b *testing.B, c client.Client, queue string, n int) float64 {
	tc := api.NewClient(c, queue)
	prefix := fmt.Sprintf("%s-%d", queue, time.Now().UnixNano())
	wall, failed, _ := startAndWait(b, n, func(i int) (client.WorkflowRun, error) {
		run, err := tc.StartTicketRouting(context.Background(), api.WorkflowID("ticket-routing", fmt.Sprintf("%s-%d", prefix, i)),
			workflows.TicketRoutingInput{Ticket: benchTicket})
		if err != nil {
			return nil, err
		}
		return run.Run, nil
	})
	require.Zero(b, failed, "no run may be lost or fail")
	return float64(n) / wall.Seconds()
}

// BenchmarkStoreThroughput routes N tickets at once with the business store
// on SQLite, then N with it on PostgreSQL, in the same run, with in-process
// workers and a scripted model that answers at once, and reports both
// throughputs and their ratio.
//
//	go test ./e2e -run '^$' -bench StoreThroughput -benchtime 3x
func BenchmarkStoreThroughput(b *testing.B) {
	model := scriptedOllama(b, ticketAnswers("normal"))
	n := benchRuns(200)
	td := startTandem(b)
	c := td.servers.Client(b)
	queues := map[string]string{}
	for _, backend := range []string{"sqlite", "postgres"} {
		setting := filepath.Join(b.TempDir(), "tandem.db")
		if backend == "postgres" {
			setting = testenv.PostgresDB(b)
		}
		records := storetest.Open(b, setting)
		require.NoError(b, records.Seed(context.Background(), filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql")))
		cfg := td.cfg
		cfg.OllamaHost, cfg.Model, cfg.ModelParallel = model.URL, "scripted", 32
		cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-store-"+backend, "e2e-store-"+backend+"-model"
		startWorkers(b, c, cfg, records)
		queues[backend] = cfg.TaskQueue
	}
	var sqliteRate, pgRate float64
	for i := 0; i < b.N; i++ {
		sq, pg := routeTickets(b, c, queues["sqlite"], n), routeTickets(b, c, queues["postgres"], n)
		b.Logf("%d ticket routings: SQLite store %.1f runs/s, PostgreSQL store %.1f runs/s, ratio %.2f", n, sq, pg, pg/sq)
		sqliteRate, pgRate = sqliteRate+sq/float64(b.N), pgRate+pg/float64(b.N)
	}
	b.ReportMetric(sqliteRate, "sqlite-runs/s")
	b.ReportMetric(pgRate, "postgres-runs/s")
	b.ReportMetric(pgRate/sqliteRate, "ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkScaleOut routes N tickets at once with one worker process (role
// all), then with two workflow workers and two model workers, all on one
// PostgreSQL store, with a scripted model that answers at once, and reports
// both throughputs and their ratio.
//
//	go test ./e2e -run '^$' -bench ScaleOut -benchtime 3x
func BenchmarkScaleOut(b *testing.B) {
	s := testenv.Start(b)
	model := scriptedOllama(b, ticketAnswers("normal"))
	n := benchRuns(200)
	c := s.Client(b)
	require.NoError(b, workers.EnsureSearchAttributes(context.Background(), c, "default"))
	dir := b.TempDir()
	seed := "TANDEM_SEED_FILE=" + filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql")
	deploy := func(name string, roles ...string) string {
		queue := "e2e-scale-" + name
		env := workerEnv(s, queue, model.URL, "scripted", testenv.PostgresDB(b), filepath.Join(dir, "reports"))
		env = append(env, "TANDEM_MODEL_PARALLEL=32")
		for i, role := range roles {
			h := startHost(b, dir, env, fmt.Sprintf("%s-%d", name, i), role, seed)
			checks := []string{"temporal", "store", "ollama"}
			if role == "workflows" {
				checks = checks[:2]
			}
			require.Eventually(b, ready(h.health, checks...), time.Minute, 200*time.Millisecond)
		}
		return queue
	}
	one := deploy("one", "all")
	four := deploy("four", "workflows", "workflows", "model", "model")
	var oneRate, fourRate float64
	for i := 0; i < b.N; i++ {
		r1, r4 := routeTickets(b, c, one, n), routeTickets(b, c, four, n)
		b.Logf("%d ticket routings: 1 worker %.1f runs/s, 2 workflow + 2 model workers %.1f runs/s, ratio %.2f", n, r1, r4, r4/r1)
		oneRate, fourRate = oneRate+r1/float64(b.N), fourRate+r4/float64(b.N)
	}
	b.ReportMetric(oneRate, "1-worker-runs/s")
	b.ReportMetric(fourRate, "4-workers-runs/s")
	b.ReportMetric(fourRate/oneRate, "ratio")
	b.ReportMetric(0, "ns/op")
}
