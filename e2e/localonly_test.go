package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkerRefusesAModelServerThatIsNotLocal starts the real worker with a
// public model server: it must refuse to start, in one sentence, before it
// connects to anything; listed in TANDEM_MODEL_ENDPOINTS, it gets past that
// check.
func TestWorkerRefusesAModelServerThatIsNotLocal(t *testing.T) {
	worker := buildWorker(t)
	run := func(env ...string) (int, string) {
		cmd := exec.Command(worker)
		cmd.Env = append(os.Environ(), append([]string{"TEMPORAL_ADDRESS=127.0.0.1:1", "TANDEM_DB=" + t.TempDir() + "/t.db"}, env...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		done := make(chan error, 1)
		require.NoError(t, cmd.Start())
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("the worker did not exit")
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	code, stderr := run("OLLAMA_HOST=http://8.8.8.8:11434")
	assert.Equal(t, 1, code)
	assert.Equal(t, "worker: the model server 8.8.8.8:11434 is at 8.8.8.8, which is not a loopback or private address; Tandem keeps inference local, "+
		"so point OLLAMA_HOST at your own Ollama server, or list 8.8.8.8 under inference.endpoints in the data policy if that server is yours\n", stderr)

	code, stderr = run("OLLAMA_HOST=http://8.8.8.8:11434", "TANDEM_MODEL_ENDPOINTS=8.8.8.8")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the Temporal server at 127.0.0.1:1 is not answering", "past the check, it stops at the next missing piece")
}
