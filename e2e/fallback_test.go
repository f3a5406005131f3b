package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/workflows"
)

// modelRouter is one Ollama API in front of several scripted servers, each
// serving the model of its name.
func modelRouter(t *testing.T, servers map[string]*httptest.Server, fallback string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(body, &req)
		target, ok := servers[req.Model]
		if !ok {
			target = servers[fallback]
		}
		u, _ := url.Parse(target.URL)
		r.Body = io.NopCloser(bytes.NewReader(body))
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestAPrimaryModelThatNeverValidatesHandsTheStepToTheFallback runs an
// agent whose model answers nothing that matches the decision schema; the
// data policy names a fallback model, which takes the step, and the result
// and the audit say which model decided what.
func TestAPrimaryModelThatNeverValidatesHandsTheStepToTheFallback(t *testing.T) {
	t.Parallel()
	flaky := scriptedOllama(t, func(format, last string) string { return `{"thought": "hm"` })
	steady := scriptedOllama(t, func(format, last string) string {
		return `{"thought":"done","action":{"tool":"finish","args":{"answer":"30 days","sources":[]}}}`
	})
	router := modelRouter(t, map[string]*httptest.Server{"scripted": flaky, "steady": steady}, "scripted")
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte("version: 1\nmodels:\n  fallback: [steady]\n"), 0o600))
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model, c.PolicyFile = router.URL, "scripted", policyFile })
	run, err := api.NewClient(td.servers.Client(t), td.cfg.TaskQueue).StartAgent(context.Background(),
		api.WorkflowID("agent", fmt.Sprintf("fallback-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "research", Goal: "how long is the return window?", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	res, err := run.Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "finished", res.Outcome)
	assert.Equal(t, "30 days", res.Answer)
	require.NotEmpty(t, res.Events)
	assert.Equal(t, "fallback", res.Events[0].Kind)
	assert.True(t, strings.HasSuffix(res.Events[0].Reason, "; the next steps go to steady"), res.Events[0].Reason)
	assert.Equal(t, []workflows.ModelScore{{Model: "scripted", Asked: 1}, {Model: "steady", Asked: 1, Valid: 1}}, res.Models)

	code, audit, stderr := td.starter(t, "audit", run.ID)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, audit, "agent step             steady")
	assert.Contains(t, audit, `"models":[{"asked":1,"model":"scripted","valid":0},{"asked":1,"model":"steady","valid":1}]`)
}
