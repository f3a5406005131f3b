// Package e2e runs Tandem end to end on real servers: a Temporal dev server,
// an Ollama server with the test model, the real worker and the starter.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Stop()
	os.Exit(code)
}

// tandem is one Tandem deployment under test: servers, a worker on its own
// task queues and business store, and the configuration a starter would use.
type tandem struct {
	servers *testenv.Servers
	cfg     config.Config
	dbPath  string
}

// startTandem starts the servers (once per binary) and a worker with its own
// task queues and store, stopped when the test ends.
func startTandem(t *testing.T) *tandem {
	t.Helper()
	s := testenv.Start(t)
	cfg := config.FromEnv()
	cfg.TemporalAddress = s.TemporalAddress
	cfg.Namespace = "default"
	cfg.OllamaHost = s.OllamaHost
	cfg.Model = s.Model
	cfg.TaskQueue = "e2e-" + t.Name()
	cfg.ModelTaskQueue = "e2e-model-" + t.Name()
	cfg.DBPath = filepath.Join(t.TempDir(), "tandem.db")
	cfg.UIURL = "http://localhost:8233"

	ctx := context.Background()
	db, err := store.Open(ctx, cfg.DBPath)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	c := s.Client(t)
	require.NoError(t, workers.EnsureSearchAttributes(ctx, c, cfg.Namespace))
	w, err := workers.Start(c, cfg, db)
	require.NoError(t, err)
	t.Cleanup(w.Stop)
	return &tandem{servers: s, cfg: cfg, dbPath: cfg.DBPath}
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
	)
}

// buildStarter builds the starter command once per test binary.
func buildStarter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(os.TempDir(), "tandem-e2e-starter")
	cmd := exec.Command("go", "build", "-o", bin, "./starter")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build the starter: %s", out)
	return bin
}
