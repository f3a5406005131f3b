package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// TestWorkersOnSeveralHostsShareThePostgresStore runs Tandem as it runs
// across machines: two workflow workers and a model worker, separate worker
// processes with no local state, on one PostgreSQL business store, with the
// real Ollama server and test model. Every ticket is stored once and every
// reply queued once whichever worker ran it, the model worker keeps each
// run's redaction mapping in the shared store, a repeated start is the same
// run, and a worker asked to stop (SIGTERM) drains and exits cleanly while
// the others finish the work.
func TestWorkersOnSeveralHostsShareThePostgresStore(t *testing.T) {
	const runs = 12
	s := testenv.Start(t)
	db := testenv.PostgresDB(t)
	dir := t.TempDir()
	queue := fmt.Sprintf("e2e-pg-%d", time.Now().UnixNano())
	base := append(os.Environ(), "TEMPORAL_ADDRESS="+s.TemporalAddress, "TEMPORAL_NAMESPACE=default",
		"TANDEM_TASK_QUEUE="+queue, "TANDEM_MODEL_TASK_QUEUE="+queue+"-model", "OLLAMA_HOST="+s.OllamaHost,
		"TANDEM_MODEL="+s.Model, "TANDEM_DB="+db, "TANDEM_REPORTS_DIR="+filepath.Join(dir, "reports"),
		"TANDEM_CODEC_KEYS=", "TANDEM_CODEC_KEY_FILE=", "TANDEM_CODEC_ADDR=", "TANDEM_POLICY_FILE=", "TANDEM_LOG_LEVEL=info",
		"TANDEM_SHUTDOWN_TIMEOUT=20s")
	worker := func(name string, extra ...string) *workerProcess {
		log, err := os.Create(filepath.Join(dir, name+".log"))
		require.NoError(t, err)
		t.Cleanup(func() { log.Close() })
		w := &workerProcess{t: t, env: append(append([]string{}, base...), extra...), log: log}
		w.start()
		t.Cleanup(w.kill9)
		return w
	}
	seed := "TANDEM_SEED_FILE=" + filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql")
	healthA, healthB, healthModel := freeAddr(t), freeAddr(t), freeAddr(t)
	hostA := worker("workflows-a", "TANDEM_WORKER_ROLE=workflows", seed, "TANDEM_HEALTH_ADDR="+healthA)
	worker("workflows-b", "TANDEM_WORKER_ROLE=workflows", seed, "TANDEM_HEALTH_ADDR="+healthB)
	worker("model", "TANDEM_WORKER_ROLE=model", "TANDEM_HEALTH_ADDR="+healthModel)

	// A worker is ready once what it depends on answers: Temporal and the
	// store, and for the model worker the model server with the model.
	ready := func(addr string, checks ...string) func() bool {
		return func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var rep health.Report
			_ = json.NewDecoder(resp.Body).Decode(&rep)
			for _, c := range checks {
				if rep.Checks[c] != "ok" {
					return false
				}
			}
			return resp.StatusCode == http.StatusOK && len(rep.Checks) == len(checks)
		}
	}
	require.Eventually(t, ready(healthA, "temporal", "store"), time.Minute, 200*time.Millisecond, "workflow worker A's /readyz")
	require.Eventually(t, ready(healthB, "temporal", "store"), time.Minute, 200*time.Millisecond, "workflow worker B's /readyz")
	require.Eventually(t, ready(healthModel, "temporal", "store", "ollama"), time.Minute, 200*time.Millisecond, "the model worker's /readyz")

	ctx := context.Background()
	c := s.Client(t)
	require.NoError(t, workers.EnsureSearchAttributes(ctx, c, "default"))
	tc := api.NewClient(c, queue)
	var started []*api.Run[workflows.TicketRoutingResult]
	for i := range runs {
		in := workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: fmt.Sprintf("Parcel %d is late", i),
			Body: "My parcel has not arrived. Write to camille.martin@example.com.", Customer: "Camille Martin", Channel: "email"}}
		id := api.WorkflowID("ticket-routing", fmt.Sprintf("%s-%d", queue, i))
		run, err := tc.StartTicketRouting(ctx, id, in)
		require.NoError(t, err)
		again, err := tc.StartTicketRouting(ctx, id, in)
		require.NoError(t, err, "a repeated start of the same run")
		assert.True(t, again.Existing, "is the run already started")
		assert.Equal(t, run.Run.GetRunID(), again.Run.GetRunID(), "is the same run")
		started = append(started, run)
		if i == runs/2 {
			// One workflow host is taken out of service with runs in flight.
			require.NoError(t, syscall.Kill(hostA.cmd.Process.Pid, syscall.SIGTERM))
		}
	}
	state, err := hostA.cmd.Process.Wait()
	require.NoError(t, err)
	assert.Equal(t, 0, state.ExitCode(), "a worker asked to stop exits cleanly")
	logA, err := os.ReadFile(hostA.log.Name())
	require.NoError(t, err)
	assert.Contains(t, string(logA), "Tandem worker stopped")
	assert.Contains(t, string(logA), "postgres postgres://tandem@127.0.0.1:", "the worker names its store, without a password")

	deadline, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for _, run := range started {
		res, err := waitApprovingReviews(deadline, tc, run)
		require.NoError(t, err, "run %s completes", run.ID)
		assert.True(t, res.Review.Sent, "run %s sent its reply", run.ID)
	}

	var tickets, replies, distinct int
	storetest.Scan(t, db, `SELECT count(*) FROM tickets`, nil, &tickets)
	storetest.Scan(t, db, `SELECT count(*), count(DISTINCT workflow_id) FROM outbox WHERE idempotency_key LIKE '%/reply'`, nil, &replies, &distinct)
	assert.Equal(t, runs, tickets, "each ticket stored once")
	assert.Equal(t, runs, replies, "each reply queued once")
	assert.Equal(t, runs, distinct)
	assert.Equal(t, runs, storetest.Int(t, db, `SELECT count(DISTINCT scope) FROM redactions WHERE kind = 'EMAIL'`),
		"the model worker kept each run's placeholder mapping in the shared store")
}

// waitApprovingReviews waits for a ticket routing, approving the draft when
// the run asks for a review.
func waitApprovingReviews(ctx context.Context, tc *api.Client, run *api.Run[workflows.TicketRoutingResult]) (workflows.TicketRoutingResult, error) {
	var res workflows.TicketRoutingResult
	for {
		pending, err := tc.Wait(ctx, run.Run, &res)
		if pending == nil || err != nil {
			return res, err
		}
		if err := run.Decide(ctx, workflows.Decision{Approve: true, By: pending.Approvers[0]}); err != nil {
			return res, err
		}
	}
}

// freeAddr is a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
