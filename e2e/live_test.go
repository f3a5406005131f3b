package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/workflows"
)

// slowOllama streams answer in pieces, one every `every`, like a slow
// local model.
func slowOllama(t *testing.T, answer string, pieces int, every time.Duration) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/tags":
			w.Write([]byte(`{"models":[{"name":"scripted:latest","model":"scripted:latest","digest":"sha256:5c41b7ed"}]}`))
		case "/api/chat":
			size := (len(answer) + pieces - 1) / pieces
			for i := 0; i < len(answer); i += size {
				chunk, _ := json.Marshal(map[string]any{"model": "scripted", "done": false,
					"message": map[string]any{"role": "assistant", "content": answer[i:min(i+size, len(answer))]}})
				w.Write(append(chunk, '\n'))
				w.(http.Flusher).Flush()
				time.Sleep(every)
			}
			done, _ := json.Marshal(map[string]any{"model": "scripted", "done": true, "prompt_eval_count": 50, "eval_count": pieces,
				"message": map[string]any{"role": "assistant", "content": ""}})
			w.Write(append(done, '\n'))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// TestWatchShowsTheAnswerWhileTheModelWritesIt: a model that takes about
// 20 seconds to write its decision; `starter watch` prints what it has
// written so far before the run ends, from the model call's heartbeat.
func TestWatchShowsTheAnswerWhileTheModelWritesIt(t *testing.T) {
	t.Parallel()
	thought := "the return window is written in the refund policy, which says thirty days from delivery for every item"
	answer := fmt.Sprintf(`{"thought":%q,"action":{"tool":"finish","args":{"answer":"30 days","sources":[]}}}`, thought)
	model := slowOllama(t, answer, 64, 300*time.Millisecond)
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model = model.URL, "scripted" })
	run, err := api.NewClient(td.servers.Client(t), td.cfg.TaskQueue).StartAgent(context.Background(),
		api.WorkflowID("agent", fmt.Sprintf("live-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "research", Goal: "how long is the return window?", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	code, out, stderr := td.starter(t, "watch", run.ID)
	require.Equal(t, 0, code, stderr)
	live := strings.Index(out, "… generating agent step: ")
	ended := strings.Index(out, "ended")
	require.GreaterOrEqual(t, live, 0, "watch shows the answer in progress:\n%s", out)
	assert.Less(t, live, ended, "before the call ends")
	assert.Contains(t, out[live:ended], `{"thought":"the return window`, "the answer's first words")
}
