package localonly

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	for _, ok := range []string{"http://127.0.0.1:11434", "http://localhost:11434", "http://10.0.3.7:11434", "http://192.168.1.20",
		"http://172.20.0.5:11434", "http://[::1]:11434", "http://[fd00::5]:11434"} {
		assert.NoError(t, Check(ctx, ok, nil), ok)
	}
	err := Check(ctx, "http://8.8.8.8:11434", nil)
	assert.EqualError(t, err, "the model server 8.8.8.8:11434 is at 8.8.8.8, which is not a loopback or private address; Tandem keeps inference local, "+
		"so point OLLAMA_HOST at your own Ollama server, or list 8.8.8.8 under inference.endpoints in the data policy if that server is yours")
	assert.NoError(t, Check(ctx, "http://8.8.8.8:11434", []string{"8.8.8.8"}), "an endpoint the operator listed")
	assert.NoError(t, Check(ctx, "http://8.8.8.8:11434", []string{" 8.8.8.8:11434 "}))
	assert.Error(t, Check(ctx, "http://8.8.8.8:11434", []string{"8.8.8.8:9999"}), "another port is another server")
	assert.EqualError(t, Check(ctx, "::", nil), `OLLAMA_HOST "::" is not a URL; set it like http://127.0.0.1:11434`)
}
