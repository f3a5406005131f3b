package config

import (
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	for _, k := range []string{"TEMPORAL_ADDRESS", "OLLAMA_HOST", "TANDEM_MODEL", "TANDEM_MODEL_FILE", "TANDEM_MODEL_PARALLEL", "TANDEM_MODEL_TIMEOUT"} {
		t.Setenv(k, "")
	}
	cfg := FromEnv()
	assert.Equal(t, "127.0.0.1:7233", cfg.TemporalAddress)
	assert.Equal(t, "http://127.0.0.1:11434", cfg.OllamaHost)
	assert.Equal(t, DefaultModel, cfg.Model)
	assert.Equal(t, 5*time.Minute, cfg.ModelTimeout)
	require.NoError(t, cfg.Validate())

	t.Setenv("TANDEM_MODEL_FILE", "/models/Llama-3.2 1B.Q4.gguf")
	assert.Equal(t, "llama-3.2-1b.q4", FromEnv().Model, "a model file names the model")
	t.Setenv("TANDEM_MODEL", "mine")
	assert.Equal(t, "mine", FromEnv().Model)

	t.Setenv("TANDEM_MODEL_PARALLEL", "lots")
	assert.EqualError(t, FromEnv().Validate(), "TANDEM_MODEL_PARALLEL is -1; set it to 1 or more (the Ollama server's OLLAMA_NUM_PARALLEL)")

	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	cfg = FromEnv()
	cfg.RegisterFlags(fs)
	require.NoError(t, fs.Parse([]string{"-model", "other", "-address", "temporal:7233"}))
	assert.Equal(t, "other", cfg.Model)
	assert.Equal(t, "temporal:7233", cfg.TemporalAddress)
}

func TestOllamaURL(t *testing.T) {
	assert.Equal(t, "http://127.0.0.1:11434", OllamaURL("127.0.0.1"))
	assert.Equal(t, "http://gpu-1:8080", OllamaURL("gpu-1:8080"))
	assert.Equal(t, "https://ollama.internal:11434", OllamaURL("https://ollama.internal/"))
}
