package modelsetup

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ollamaWithoutModels answers like an Ollama server that has no models and
// cannot reach the registry.
func ollamaWithoutModels(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"version":"0.6.5"}`)) })
	mux.HandleFunc("POST /api/show", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"model not found"}`))
	})
	mux.HandleFunc("POST /api/pull", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"pull model manifest: dial tcp: lookup registry.ollama.ai: no such host"}`))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestEnsureRefusesAFileThatIsNotGGUF(t *testing.T) {
	s := ollamaWithoutModels(t)
	path := filepath.Join(t.TempDir(), "model.gguf")
	require.NoError(t, os.WriteFile(path, []byte("<html>not a model</html>"), 0o644))
	err := Ensure(context.Background(), s.URL, "mine", path, &bytes.Buffer{})
	assert.EqualError(t, err, "TANDEM_MODEL_FILE "+path+" is not a GGUF model file; point it at a .gguf file")
}

func TestEnsureRefusesAMissingFile(t *testing.T) {
	s := ollamaWithoutModels(t)
	err := Ensure(context.Background(), s.URL, "mine", "/no/such/model.gguf", &bytes.Buffer{})
	assert.EqualError(t, err, "TANDEM_MODEL_FILE /no/such/model.gguf does not exist; point it at a GGUF model file")
}

func TestEnsureNamesTheModelAndTheFixWhenItCannotPull(t *testing.T) {
	s := ollamaWithoutModels(t)
	err := Ensure(context.Background(), s.URL, "qwen2.5:3b", "", &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model qwen2.5:3b is not on the Ollama server at "+s.URL+" and could not be pulled")
	assert.Contains(t, err.Error(), "run `ollama pull qwen2.5:3b` on a machine with internet, or set TANDEM_MODEL_FILE")
}
