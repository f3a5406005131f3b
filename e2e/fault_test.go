package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// outage is a TCP proxy in front of a model server that can be taken down:
// while it is down, connections are refused and open ones are cut, as when
// Ollama stops.
type outage struct {
	addr, backend string
	mu            sync.Mutex
	ln            net.Listener
	conns         map[net.Conn]bool
}

func newOutage(t testing.TB, backend string) *outage {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	o := &outage{addr: ln.Addr().String(), backend: backend, conns: map[net.Conn]bool{}}
	o.serve(ln)
	t.Cleanup(o.down)
	return o
}

func (o *outage) serve(ln net.Listener) {
	o.mu.Lock()
	o.ln = ln
	o.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", o.backend)
			if err != nil {
				in.Close()
				continue
			}
			o.mu.Lock()
			o.conns[in], o.conns[out] = true, true
			o.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
}

// down refuses new connections and cuts the open ones.
func (o *outage) down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		o.ln.Close()
		o.ln = nil
	}
	for c := range o.conns {
		c.Close()
	}
	o.conns = map[net.Conn]bool{}
}

// up serves again on the same address.
func (o *outage) up(t testing.TB) {
	var ln net.Listener
	require.Eventually(t, func() bool {
		var err error
		ln, err = net.Listen("tcp", o.addr)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "listen again on %s", o.addr)
	o.serve(ln)
}

// workerProcess is the real worker binary, run and killed like a process in
// production.
type workerProcess struct {
	t   testing.TB
	env []string
	cmd *exec.Cmd
	log *os.File
	dir string // the working folder; the test's when empty
}

func (w *workerProcess) start() {
	w.cmd = exec.Command(buildWorker(w.t))
	w.cmd.Env = w.env
	w.cmd.Dir = w.dir
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(w.t, w.cmd.Start())
}

// kill9 kills the worker without warning.
func (w *workerProcess) kill9() {
	if w.cmd.ProcessState != nil {
		return // exited already
	}
	_ = syscall.Kill(w.cmd.Process.Pid, syscall.SIGKILL)
	_ = w.cmd.Wait()
}

// TestRunsSurviveAModelOutageAndWorkerCrashes sends 50 ticket routings to
// the real worker binary, stops the model server while they are in flight,
// and kills the worker twice meanwhile, a quarter and half way into the
// outage. The outage lasts 30 seconds, twice the model activity's heartbeat
// timeout, so a call cut by the first crash is retried while the server is
// still down (TANDEM_TEST_OUTAGE sets another length, such as 3m). Every
// run completes, each ticket is stored once and each reply queued once, and
// while the model server is down `starter status` says so.
func TestRunsSurviveAModelOutageAndWorkerCrashes(t *testing.T) {
	t.Parallel()
	const runs = 50
	outageFor := 30 * time.Second
	if v := os.Getenv("TANDEM_TEST_OUTAGE"); v != "" {
		var err error
		outageFor, err = time.ParseDuration(v)
		require.NoError(t, err, "TANDEM_TEST_OUTAGE is a duration such as 3m")
	}
	s := testenv.Start(t)
	model := scriptedOllama(t, func(format, last string) string {
		if strings.Contains(format, `"category"`) {
			return `{"category":"shipping","priority":"low","sentiment":"neutral","language":"en","summary":"a parcel is late"}`
		}
		return "We are looking into your parcel and will write again tomorrow."
	})
	proxy := newOutage(t, strings.TrimPrefix(model.URL, "http://"))
	dir := t.TempDir()
	dbPath := storetest.Setting(t)
	queue := fmt.Sprintf("e2e-fault-%d", time.Now().UnixNano())
	logFile, err := os.Create(filepath.Join(dir, "worker.log"))
	require.NoError(t, err)
	defer logFile.Close()
	env := append(workerEnv(s, queue, "http://"+proxy.addr, "scripted", dbPath, filepath.Join(dir, "reports")),
		"TANDEM_SEED_FILE="+filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql"), "TANDEM_LOG_LEVEL=warn")
	worker := &workerProcess{t: t, env: env, log: logFile}
	worker.start()
	defer worker.kill9()

	ctx := context.Background()
	c := s.Client(t)
	require.NoError(t, workers.EnsureSearchAttributes(ctx, c, "default"))
	tc := api.NewClient(c, queue)
	var started []*api.Run[workflows.TicketRoutingResult]
	for i := range runs {
		run, err := tc.StartTicketRouting(ctx, api.WorkflowID("ticket-routing", fmt.Sprintf("%s-%d", queue, i)),
			workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: fmt.Sprintf("Parcel %d is late", i),
				Body: "My parcel has not arrived.", Customer: "Camille Martin", Channel: "email"}})
		require.NoError(t, err)
		started = append(started, run)
		if i == 10 {
			proxy.down() // the model server stops with runs in flight and more arriving
		}
	}
	outageStart := time.Now()

	// While the model server is down, the status of a run whose call waits
	// for it says so, and a run behind it says it is queued.
	td := &tandem{servers: s, cfg: config.Config{TemporalAddress: s.TemporalAddress, Namespace: "default", TaskQueue: queue,
		ModelTaskQueue: queue + "-model", OllamaHost: "http://" + proxy.addr, Model: "scripted"}}
	require.Eventually(t, func() bool {
		code, out, _ := td.starter(t, "status", started[len(started)-1].ID)
		return code == 0 && strings.Contains(out, "call queued for a model worker since")
	}, time.Minute, time.Second, "starter status says the last run's model call is queued")
	require.Eventually(t, func() bool {
		for _, run := range started[:12] {
			code, out, _ := td.starter(t, "status", run.ID)
			if code == 0 && strings.Contains(out, "waiting for the model server: the Ollama server at http://"+proxy.addr+" is not answering") {
				return true
			}
		}
		return false
	}, time.Minute, time.Second, "starter status names the outage")

	time.Sleep(time.Until(outageStart.Add(outageFor / 4))) // a crash a quarter into the outage, and one halfway
	worker.kill9()
	worker.start()
	time.Sleep(time.Until(outageStart.Add(outageFor / 2)))
	worker.kill9()
	worker.start()
	time.Sleep(time.Until(outageStart.Add(outageFor)))
	proxy.up(t)

	deadline, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for _, run := range started {
		res, err := run.Result(deadline)
		require.NoError(t, err, "run %s completes", run.ID)
		assert.True(t, res.Review.Sent, "run %s sent its reply", run.ID)
	}

	var tickets, replies, distinct int
	storetest.Scan(t, dbPath, `SELECT count(*) FROM tickets`, nil, &tickets)
	storetest.Scan(t, dbPath, `SELECT count(*), count(DISTINCT workflow_id) FROM outbox WHERE idempotency_key LIKE '%/reply'`, nil, &replies, &distinct)
	assert.Equal(t, runs, tickets, "each ticket stored once")
	assert.Equal(t, runs, replies, "each reply queued once")
	assert.Equal(t, runs, distinct)
	var to string
	storetest.Scan(t, dbPath, `SELECT DISTINCT recipients FROM outbox WHERE idempotency_key LIKE '%/reply'`, nil, &to)
	assert.Equal(t, "camille.martin@example.com", to)
	t.Logf("%d runs completed after a %s model outage and two worker crashes; last run done %s after the outage ended",
		runs, outageFor, time.Since(outageStart.Add(outageFor)).Round(time.Second))
}
