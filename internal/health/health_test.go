package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadinessNamesWhatDoesNotAnswer(t *testing.T) {
	checks := Checks{
		"store": func(context.Context) error { return nil },
		"ollama": func(context.Context) error {
			return errors.New("model qwen2.5:3b is not on the Ollama server; pull it")
		},
	}
	mux := http.NewServeMux()
	Register(mux, checks)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	err := Probe(context.Background(), addr)
	require.Error(t, err)
	assert.Equal(t, "not ready (ollama: model qwen2.5:3b is not on the Ollama server; pull it)", err.Error())

	delete(checks, "ollama")
	assert.NoError(t, Probe(context.Background(), "0.0.0.0:"+strings.Split(addr, ":")[1]), "a wildcard host is this machine")

	rep := checks.Run(context.Background())
	assert.Equal(t, Report{Status: "ready", Checks: map[string]string{"store": "ok"}}, rep)

	srv.Close()
	err = Probe(context.Background(), addr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing answers health checks on "+addr)
	assert.EqualError(t, Probe(context.Background(), "8091"), `the health address "8091" is not host:port`)
}
