// Package e2e runs Tandem end to end on real servers: a Temporal dev server,
// an Ollama server with the test model, the real worker and the starter.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/mcptools/mcptest"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
)

func TestMain(m *testing.M) {
	mcptest.ServeIfAsked()
	code := m.Run()
	testenv.Stop()
	os.Exit(code)
}

// tandem is one Tandem deployment under test: servers, a worker on its own
// task queues and business store, and the configuration a starter would use.
type tandem struct {
	servers *testenv.Servers
	cfg     config.Config
	db      string       // the business store's TANDEM_DB setting
	records *store.Store // the business store the workers use
}

// startTandem starts the servers (once per binary) and a worker with its own
// task queues and store, stopped when the test ends.
func startTandem(t testing.TB) *tandem {
	t.Helper()
	return startTandemWith(t, nil)
}

// startTandemWith is startTandem with the worker's configuration changed by
// configure first (another model server, a data policy file).
func startTandemWith(t testing.TB, configure func(*config.Config)) *tandem {
	t.Helper()
	s := testenv.Start(t)
	cfg := config.FromEnv()
	cfg.TemporalAddress = s.TemporalAddress
	cfg.Namespace = "default"
	cfg.OllamaHost = s.OllamaHost
	cfg.Model = s.Model
	cfg.TaskQueue = "e2e-" + t.Name()
	cfg.ModelTaskQueue = "e2e-model-" + t.Name()
	cfg.DB = storetest.Setting(t)
	cfg.ReportsDir = filepath.Join(t.TempDir(), "reports")
	cfg.CorpusDir = filepath.Join(testenv.RepoRoot(), "testdata", "corpus")
	cfg.UIURL = "http://localhost:8233"
	cfg.ProfilesDir = filepath.Join(testenv.RepoRoot(), "e2e", "testdata", "profiles")
	if configure != nil {
		configure(&cfg)
	}

	ctx := context.Background()
	records := storetest.Open(t, cfg.DB)
	require.NoError(t, records.Seed(ctx, filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql")))
	c := s.Client(t)
	require.NoError(t, workers.EnsureSearchAttributes(ctx, c, cfg.Namespace))
	startWorkers(t, c, cfg, records)
	return &tandem{servers: s, cfg: cfg, db: cfg.DB, records: records}
}

// startWorkers runs Tandem's workers for cfg on client c and the business
// store, as the worker command does, until the test ends.
func startWorkers(t testing.TB, c client.Client, cfg config.Config, records *store.Store) {
	t.Helper()
	snap, err := workers.Preflight(context.Background(), cfg)
	require.NoError(t, err)
	w, err := workers.Start(c, cfg, records, snap, nil)
	require.NoError(t, err)
	t.Cleanup(w.Stop)
	t.Cleanup(func() { terminateRunsOn(c, cfg.TaskQueue) })
}

// terminateRunsOn ends the runs a finished test left open on its task
// queue (waiting for a person, or asleep), before its workers stop: a run
// no worker answers for would otherwise slow every namespace-wide list the
// tests running after it ask for.
func terminateRunsOn(c client.Client, queue string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token,
			Query: fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", queue)})
		if err != nil {
			return
		}
		for _, e := range resp.GetExecutions() {
			_ = c.TerminateWorkflow(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), "the test ended")
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return
		}
	}
}

// env is the environment a starter process needs to reach this deployment.
func (td *tandem) env() []string {
	return append(os.Environ(),
		"TEMPORAL_ADDRESS="+td.cfg.TemporalAddress,
		"TEMPORAL_NAMESPACE="+td.cfg.Namespace,
		"TANDEM_TASK_QUEUE="+td.cfg.TaskQueue,
		"TANDEM_MODEL_TASK_QUEUE="+td.cfg.ModelTaskQueue,
		"OLLAMA_HOST="+td.cfg.OllamaHost,
		"TANDEM_MODEL="+td.cfg.Model,
		"TANDEM_REPORTS_DIR="+td.cfg.ReportsDir,
	)
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildStarter builds the starter and worker commands once per test binary
// and returns the starter.
func buildStarter(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "tandem-e2e-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./starter", "./worker")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the commands: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return filepath.Join(binDir, "starter")
}

// buildWorker returns the worker command, built with the starter.
func buildWorker(t testing.TB) string {
	buildStarter(t)
	return filepath.Join(binDir, "worker")
}

// workerExits runs the worker command with env until it exits by itself,
// and returns its exit code and stderr; a worker still running after 30 s
// fails the test.
func workerExits(t *testing.T, env []string) (int, string) {
	t.Helper()
	cmd := exec.Command(buildWorker(t))
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the worker did not exit")
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// starter runs the starter command against this deployment and returns its
// exit code, stdout and stderr.
func (td *tandem) starter(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return td.starterWithStdin(t, "", args...)
}

// starterWithStdin is starter with stdin holding input.
func (td *tandem) starterWithStdin(t *testing.T, input string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(buildStarter(t), args...)
	cmd.Stdin = strings.NewReader(input)
	cmd.Env = td.env()
	cmd.Dir = testenv.RepoRoot()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run the starter: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// jsonLines decodes the starter's -o json output.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var lines []T
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l T
		require.NoError(t, dec.Decode(&l))
		lines = append(lines, l)
	}
	return lines
}
