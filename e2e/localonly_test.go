package e2e

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWorkerRefusesAModelServerThatIsNotLocal starts the real worker with a
// public model server: it must refuse to start, in one sentence, before it
// connects to anything; listed in TANDEM_MODEL_ENDPOINTS, it gets past that
// check.
func TestWorkerRefusesAModelServerThatIsNotLocal(t *testing.T) {
	t.Parallel()
	run := func(env ...string) (int, string) {
		return workerExits(t, append(os.Environ(), append([]string{"TEMPORAL_ADDRESS=127.0.0.1:1", "TANDEM_DB=" + t.TempDir() + "/t.db"}, env...)...))
	}
	code, stderr := run("OLLAMA_HOST=http://8.8.8.8:11434")
	assert.Equal(t, 1, code)
	assert.Equal(t, "worker: the model server 8.8.8.8:11434 is at 8.8.8.8, which is not a loopback or private address; Tandem keeps inference local, "+
		"so point OLLAMA_HOST at your own Ollama server, or list 8.8.8.8 under inference.endpoints in the data policy if that server is yours\n", stderr)

	code, stderr = run("OLLAMA_HOST=http://8.8.8.8:11434", "TANDEM_MODEL_ENDPOINTS=8.8.8.8")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the Temporal server at 127.0.0.1:1 is not answering", "past the check, it stops at the next missing piece")
}
