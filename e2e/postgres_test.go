package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// invoiceNumber finds the invoice number in an extraction prompt.
var invoiceNumber = regexp.MustCompile(`ACM-P\d+`)

// shippingAndPayables answers as a careful model would: a ticket about a late
// parcel, a reply, and each invoice read correctly (half of them over the
// amount that posts without a person).
func shippingAndPayables(format, last string) string {
	switch {
	case strings.Contains(format, `"category"`):
		return `{"category":"shipping","priority":"low","sentiment":"neutral","language":"en","summary":"a parcel is late"}`
	case strings.Contains(format, `"vendorName"`):
		number := invoiceNumber.FindString(last)
		amount, tax, total := "100", "19", "119"
		if strings.Contains(last, "large order") {
			amount, tax, total = "1000", "190", "1190"
		}
		return `{"documentType":"invoice","refersTo":"","vendorName":"Acme Office Supplies","vendorTaxId":"DE811234567","invoiceNumber":"` + number +
			`","issueDate":"2026-11-02","dueDate":"2026-12-02","currency":"EUR","lines":[{"description":"paper","quantity":1,"unitPrice":` + amount +
			`,"amount":` + amount + `}],"subtotal":` + amount + `,"tax":` + tax + `,"total":` + total + `,"poNumber":""}`
	case format != "":
		return `{}`
	}
	return "We are looking into your parcel and will write again tomorrow."
}

// TestWorkersOnSeveralHostsShareThePostgresStore runs Tandem as it runs
// across machines: two workflow workers and two model workers, separate
// processes, the model workers in empty folders with nothing but Ollama and
// the store's URL, all on one PostgreSQL business store. It sends 50 ticket
// routings and 20 invoices, approving what waits for a person, kills -9 one
// worker of each kind mid-run and restarts it, and restarts PostgreSQL
// mid-run. Every run completes; every ledger row and outbox message exists
// exactly once; the model workers wrote nothing where they ran; and a worker
// asked to stop (SIGTERM) exits cleanly.
func TestWorkersOnSeveralHostsShareThePostgresStore(t *testing.T) {
	t.Parallel()
	const tickets, invoices = 50, 20
	s := testenv.Start(t)
	pg := testenv.StartPostgresServer(t)
	db := pg.URL()
	model := scriptedOllama(t, shippingAndPayables)
	dir := t.TempDir()
	queue := fmt.Sprintf("e2e-hosts-%d", time.Now().UnixNano())
	base := workerEnv(s, queue, model.URL, "scripted", db, filepath.Join(dir, "reports"))
	start := func(name, role string, extra ...string) host { return startHost(t, dir, base, name, role, extra...) }
	seed := "TANDEM_SEED_FILE=" + filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql")
	flowA, flowB := start("workflows-a", "workflows", seed), start("workflows-b", "workflows")
	modelA, modelB := start("model-a", "model"), start("model-b", "model")
	for _, h := range []host{flowA, flowB} {
		require.Eventually(t, ready(h.health, "temporal", "store"), time.Minute, 200*time.Millisecond, "a workflow worker's /readyz")
	}
	for _, h := range []host{modelA, modelB} {
		require.Eventually(t, ready(h.health, "temporal", "store", "ollama"), time.Minute, 200*time.Millisecond, "a model worker's /readyz")
	}

	// The container health check: `worker healthcheck` asks /readyz.
	probe := func(addr string) (string, error) {
		cmd := exec.Command(buildWorker(t), "healthcheck")
		cmd.Env = append(os.Environ(), "TANDEM_HEALTH_ADDR="+addr)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := probe(strings.Replace(modelB.health, "127.0.0.1", "0.0.0.0", 1))
	assert.NoError(t, err, out)
	out, err = probe(freeAddr(t))
	assert.Error(t, err)
	assert.Contains(t, out, "worker: nothing answers health checks on 127.0.0.1:")

	ctx := context.Background()
	c := s.Client(t)
	require.NoError(t, workers.EnsureSearchAttributes(ctx, c, "default"))
	tc := api.NewClient(c, queue)
	var runs []client.WorkflowRun
	for i := range tickets {
		in := workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: fmt.Sprintf("Parcel %d is late", i),
			Body: "My parcel has not arrived. Write to camille.martin@example.com.", Customer: "Camille Martin", Channel: "email"}}
		id := api.WorkflowID("ticket-routing", fmt.Sprintf("%s-%d", queue, i))
		run, err := tc.StartTicketRouting(ctx, id, in)
		require.NoError(t, err)
		again, err := tc.StartTicketRouting(ctx, id, in)
		require.NoError(t, err, "a repeated start of the same run")
		assert.Equal(t, run.Run.GetRunID(), again.Run.GetRunID(), "is the same run")
		runs = append(runs, run.Run)
		if i < invoices {
			size := "small order"
			if i%2 == 1 {
				size = "large order"
			}
			inv, err := tc.StartInvoice(ctx, api.WorkflowID("invoice", fmt.Sprintf("%s-%d", queue, i)), workflows.InvoiceInput{
				Document: fmt.Sprintf("Acme Office Supplies, DE811234567\nInvoice ACM-P%d, %s: paper", i, size)})
			require.NoError(t, err)
			runs = append(runs, inv.Run)
		}
		if i == tickets/3 {
			// A host of each kind dies without warning, and comes back.
			flowA.kill9()
			modelA.kill9()
			time.Sleep(2 * time.Second)
			flowA.start()
			modelA.start()
		}
		if i == 2*tickets/3 {
			// The store restarts under the running work.
			pg.Stop()
			time.Sleep(3 * time.Second)
			pg.Start(t)
		}
	}

	deadline, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() { assert.NoError(t, waitApproving(deadline, tc, run), "run %s completes", run.GetID()) })
	}
	wg.Wait()

	var outbox, distinct int
	storetest.Scan(t, db, `SELECT count(*), count(DISTINCT idempotency_key) FROM outbox WHERE idempotency_key LIKE '%/reply'`, nil, &outbox, &distinct)
	assert.Equal(t, tickets, outbox, "each reply queued once")
	assert.Equal(t, tickets, distinct)
	assert.Equal(t, tickets, storetest.Int(t, db, `SELECT count(*) FROM tickets`), "each ticket stored once")
	storetest.Scan(t, db, `SELECT count(*), count(DISTINCT invoice_number) FROM ledger WHERE invoice_number LIKE 'ACM-P%'`, nil, &outbox, &distinct)
	assert.Equal(t, invoices, outbox, "each invoice posted once")
	assert.Equal(t, invoices, distinct)
	assert.Equal(t, tickets, storetest.Int(t, db, `SELECT count(DISTINCT scope) FROM redactions WHERE kind = 'EMAIL'`),
		"the model workers kept each run's placeholder mapping in the shared store")
	for _, h := range []host{modelA, modelB} {
		left, err := os.ReadDir(h.dir)
		require.NoError(t, err)
		assert.Empty(t, left, "a model worker writes no local file")
	}

	// A host taken out of service drains and exits cleanly.
	require.NoError(t, syscall.Kill(flowB.cmd.Process.Pid, syscall.SIGTERM))
	assert.NoError(t, flowB.cmd.Wait(), "a worker asked to stop exits cleanly")
	logB, err := os.ReadFile(flowB.log.Name())
	require.NoError(t, err)
	assert.Contains(t, string(logB), "Tandem worker stopped")
	assert.Contains(t, string(logB), "postgres postgres://tandem@127.0.0.1:", "the worker names its store, without a password")
}

// workerEnv is the environment of the worker processes of one deployment.
func workerEnv(s *testenv.Servers, queue, ollama, model, db, reports string) []string {
	return append(os.Environ(), "TEMPORAL_ADDRESS="+s.TemporalAddress, "TEMPORAL_NAMESPACE=default",
		"TANDEM_TASK_QUEUE="+queue, "TANDEM_MODEL_TASK_QUEUE="+queue+"-model", "OLLAMA_HOST="+ollama,
		"TANDEM_MODEL="+model, "TANDEM_DB="+db, "TANDEM_REPORTS_DIR="+reports,
		"TANDEM_CODEC_KEYS=", "TANDEM_CODEC_KEY_FILE=", "TANDEM_CODEC_ADDR=", "TANDEM_POLICY_FILE=", "TANDEM_SEED_FILE=",
		"TANDEM_LOG_LEVEL=info", "TANDEM_SHUTDOWN_TIMEOUT=20s")
}

// host is a worker process, as on a host of its own, with the address of
// its health checks.
type host struct {
	*workerProcess
	health string
}

// startHost starts a worker process of a role with env, logging to a file
// in dir; a model worker runs in an empty folder of its own. It is killed
// when the test ends.
func startHost(t testing.TB, dir string, env []string, name, role string, extra ...string) host {
	log, err := os.Create(filepath.Join(dir, name+".log"))
	require.NoError(t, err)
	t.Cleanup(func() { log.Close() })
	// The worker binds a free port itself and logs it, so no other process
	// can take the port between choosing it and binding it.
	env = append(append([]string{}, env...), "TANDEM_WORKER_ROLE="+role, "TANDEM_HEALTH_ADDR=127.0.0.1:0")
	h := host{workerProcess: &workerProcess{t: t, env: append(env, extra...), log: log}}
	if role == "model" {
		h.dir = filepath.Join(dir, name)
		require.NoError(t, os.Mkdir(h.dir, 0o755))
	}
	h.start()
	t.Cleanup(h.kill9)
	h.health = healthAddr(t, log.Name())
	return h
}

// servingHealth finds, in a worker's log, the address it serves health
// checks on.
var servingHealth = regexp.MustCompile(`Serving health checks and metrics\s+\{"address": "([^"]+)"\}`)

// healthAddr waits for a worker's log to say where it serves health checks.
func healthAddr(t testing.TB, logFile string) string {
	t.Helper()
	var addr string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(logFile)
		if m := servingHealth.FindSubmatch(b); err == nil && m != nil {
			addr = string(m[1])
		}
		return addr != ""
	}, time.Minute, 100*time.Millisecond, "the worker logs where it serves health checks (%s)", logFile)
	return addr
}

// ready is a check that a worker's /readyz answers 200 with exactly these
// dependencies ok.
func ready(addr string, checks ...string) func() bool {
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

// waitApproving waits for a run to end, approving whatever it asks a
// person to decide.
func waitApproving(ctx context.Context, tc *api.Client, run client.WorkflowRun) error {
	for {
		var result json.RawMessage
		pending, err := tc.Wait(ctx, run, &result)
		if pending == nil || err != nil {
			return err
		}
		// A refusal is a decision already taken, seen late: wait on.
		err = tc.Decide(ctx, run.GetID(), workflows.Decision{Approve: true, By: pending.Approvers[0]})
		if err != nil && !errors.Is(err, api.ErrRefused) {
			return err
		}
	}
}

// freeAddr is a loopback address with a free port.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
