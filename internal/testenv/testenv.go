// Package testenv starts the real servers Tandem's end-to-end tests and
// benchmarks run against: a Temporal dev server from the pinned CLI build and
// an Ollama server with the test model loaded.
//
// Where a server or the test model is not on the machine, the test is skipped
// with one line saying what is missing, unless TANDEM_REQUIRE_E2E=1 (as in
// CI), which turns the skip into a failure.
package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tandemhq/tandem/internal/modelsetup"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/temporalclient"
)

// TestModel is the name the test model is loaded under.
const TestModel = "tandem-test-tiny"

// Servers are the running servers of one test binary.
type Servers struct {
	TemporalAddress string
	UIURL           string // the dev server's Web UI
	OllamaHost      string
	Model           string

	temporal *testsuite.DevServer
	ollama   *exec.Cmd
	logs     string
}

var (
	once    sync.Once
	shared  *Servers
	missing string
	failure error
)

// Start returns the shared servers, starting them on first use. It skips (or
// fails, under TANDEM_REQUIRE_E2E=1) when the machine lacks one of them.
func Start(t testing.TB) *Servers {
	t.Helper()
	once.Do(func() { shared, missing, failure = start() })
	need(t, "the end-to-end servers", missing, failure)
	return shared
}

// need fails the test when what it needs failed to start, and skips it
// (or fails it, under TANDEM_REQUIRE_E2E=1) when the machine lacks it.
func need(t testing.TB, what, missing string, failure error) {
	t.Helper()
	switch {
	case failure != nil:
		t.Fatalf("start %s: %v", what, failure)
	case missing != "" && os.Getenv("TANDEM_REQUIRE_E2E") == "1":
		t.Fatalf("test cannot run without %s: %s", what, missing)
	case missing != "":
		t.Skipf("test skipped without %s: %s", what, missing)
	}
}

// stopGroup asks a process and its children to stop, and kills them all
// after five seconds.
func stopGroup(cmd *exec.Cmd) {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-done
}

// Stop stops the shared servers; call it from TestMain after m.Run.
func Stop() {
	StopPostgres()
	if shared == nil {
		return
	}
	if shared.ollama != nil && shared.ollama.Process != nil {
		stopGroup(shared.ollama)
	}
	if shared.temporal != nil {
		_ = shared.temporal.Stop()
	}
	_ = os.RemoveAll(shared.logs)
}

// ModelServerGroup is the process group of the Ollama server and the model
// runners it starts, for a benchmark that reads their CPU time.
func (s *Servers) ModelServerGroup() int { return s.ollama.Process.Pid }

// Client dials the shared Temporal server.
func (s *Servers) Client(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.TemporalAddress, Logger: quietLogger{},
		ContextPropagators: []workflow.ContextPropagator{sandbox.Propagator{}},
		ConnectionOptions:  client.ConnectionOptions{GrpcCompression: temporalclient.Compression(s.TemporalAddress)}})
	if err != nil {
		t.Fatalf("dial Temporal at %s: %v", s.TemporalAddress, err)
	}
	t.Cleanup(c.Close)
	return c
}

// Namespace registers a namespace of the test's own on the dev server, for
// a test that reads namespace-wide figures while others run, and returns
// its name once runs can start in it.
func (s *Servers) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	c := s.Client(t)
	if _, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)}); err != nil {
		t.Fatalf("register namespace %s: %v", name, err)
	}
	// The frontend learns of a new namespace on its next refresh.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: name})
		if err == nil {
			_, err = c.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: name})
		}
		if err == nil {
			return name
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s is not usable a minute after it was registered: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func start() (*Servers, string, error) {
	temporalCLI := envOr("TANDEM_TEMPORAL_CLI", filepath.Join(RepoRoot(), ".tandem", "bin", "temporal"))
	if _, err := os.Stat(temporalCLI); err != nil {
		return nil, fmt.Sprintf("no Temporal CLI at %s (run `make tools`, or set TANDEM_TEMPORAL_CLI)", temporalCLI), nil
	}
	ollamaBin := os.Getenv("TANDEM_OLLAMA_BIN")
	if ollamaBin == "" {
		ollamaBin, _ = exec.LookPath("ollama")
	}
	if ollamaBin == "" {
		ollamaBin = filepath.Join(RepoRoot(), ".tandem", "bin", "ollama")
	}
	if _, err := os.Stat(ollamaBin); err != nil {
		return nil, fmt.Sprintf("no Ollama server binary at %s (run `make test`, or set TANDEM_OLLAMA_BIN)", ollamaBin), nil
	}
	modelFile := envOr("TANDEM_TEST_MODEL_FILE", filepath.Join(RepoRoot(), "..", "shared", "models", "llama-2-tiny-random.gguf"))
	if _, err := os.Stat(modelFile); err != nil {
		return nil, fmt.Sprintf("no test model at %s (set TANDEM_TEST_MODEL_FILE to a GGUF file)", modelFile), nil
	}

	logs, err := os.MkdirTemp("", "tandem-e2e-")
	if err != nil {
		return nil, "", err
	}
	s := &Servers{Model: TestModel, logs: logs}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	temporalLog, _ := os.Create(filepath.Join(logs, "temporal.log"))
	uiPort, err := freePort()
	if err != nil {
		return nil, "", err
	}
	s.UIURL = fmt.Sprintf("http://127.0.0.1:%d", uiPort)
	s.temporal, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  temporalCLI,
		LogLevel:      "warn",
		EnableUI:      true,
		UIPort:        fmt.Sprint(uiPort),
		ClientOptions: &client.Options{Logger: quietLogger{}},
		ExtraArgs: []string{
			"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
			"--dynamic-config-value", "system.enableActivityEagerExecution=true",
			"--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
			"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
			"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
		},
		Stdout: temporalLog,
		Stderr: temporalLog,
	})
	if err != nil {
		return nil, "", fmt.Errorf("start the Temporal dev server: %w", err)
	}
	s.TemporalAddress = s.temporal.FrontendHostPort()

	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	hostPort := fmt.Sprintf("127.0.0.1:%d", port)
	s.OllamaHost = "http://" + hostPort
	ollamaLog, _ := os.Create(filepath.Join(logs, "ollama.log"))
	s.ollama = exec.Command(ollamaBin, "serve")
	s.ollama.Env = append(os.Environ(), "OLLAMA_HOST="+hostPort, "OLLAMA_MODELS="+filepath.Join(logs, "models"),
		"OLLAMA_NUM_PARALLEL="+envOr("TANDEM_TEST_OLLAMA_PARALLEL", "4"), "OLLAMA_KEEP_ALIVE=10m")
	s.ollama.Stdout, s.ollama.Stderr = ollamaLog, ollamaLog
	// Its own process group, so that stopping it stops the model runners
	// it starts too.
	s.ollama.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.ollama.Start(); err != nil {
		return nil, "", fmt.Errorf("start Ollama %s: %w", ollamaBin, err)
	}
	shared = s // so Stop cleans up even if the model does not load
	if err := waitForPort(ctx, hostPort); err != nil {
		return nil, "", fmt.Errorf("the Ollama server did not start (see %s): %w", ollamaLog.Name(), err)
	}
	if err := modelsetup.Ensure(ctx, s.OllamaHost, TestModel, modelFile, io.Discard); err != nil {
		return nil, "", fmt.Errorf("load the test model: %w", err)
	}
	if err := useThreads(ctx, s, envOr("TANDEM_TEST_OLLAMA_THREADS", "1")); err != nil {
		return nil, "", err
	}
	return s, "", nil
}

// useThreads sets how many CPU threads the test model computes with. The
// tests keep the machine's cores busy with servers and workers of their
// own, and llama.cpp's threads spin while they wait for one another, so on
// two cores one thread evaluates more tokens per second of CPU: the
// end-to-end suite took 87 s with one thread against 121 s with Ollama's
// default of one per core.
func useThreads(ctx context.Context, s *Servers, threads string) error {
	n, err := strconv.Atoi(threads)
	if err != nil || n < 1 {
		return fmt.Errorf("TANDEM_TEST_OLLAMA_THREADS is %q; give a whole number of threads, 1 or more", threads)
	}
	if err := s.CreateModel(ctx, &api.CreateRequest{Model: TestModel, From: TestModel, Parameters: map[string]any{"num_thread": n}}); err != nil {
		return fmt.Errorf("set the test model's threads to %d: %w", n, err)
	}
	return nil
}

// CreateModel creates a model on the test Ollama server, such as the test
// model under other parameters or another template.
func (s *Servers) CreateModel(ctx context.Context, req *api.CreateRequest) error {
	u, err := url.Parse(s.OllamaHost)
	if err != nil {
		return err
	}
	return api.NewClient(u, http.DefaultClient).Create(ctx, req, func(api.ProgressResponse) error { return nil })
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitForPort(ctx context.Context, hostPort string) error {
	for {
		conn, err := net.DialTimeout("tcp", hostPort, 200*time.Millisecond)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// quietLogger drops the SDK's client logs, which would bury test output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
