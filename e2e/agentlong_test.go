package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// scriptedOllama speaks Ollama's chat API: it answers summary requests with
// a summary, and agent steps with calculate until it has made `steps`
// decisions, then finish.
func scriptedOllama(t *testing.T, steps int64) (*httptest.Server, *atomic.Int64) {
	var decisions atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/tags":
			w.Write([]byte(`{"models":[{"name":"scripted:latest","model":"scripted:latest","digest":"sha256:5c41b7ed"}]}`))
		case "/api/chat":
			var req struct {
				Format json.RawMessage `json:"format"`
			}
			require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
			var content string
			switch {
			case strings.Contains(string(req.Format), `"summary"`):
				content = `{"summary":"computed 1+1 many times; the answer is 2"}`
			case decisions.Add(1) <= steps:
				content = `{"thought":"compute","action":{"tool":"calculate","args":{"expression":"1+1"}}}`
			default:
				content = `{"thought":"done","action":{"tool":"finish","args":{"answer":"2","sources":["calculate"]}}}`
			}
			body, _ := json.Marshal(map[string]any{"model": "scripted", "message": map[string]string{"role": "assistant", "content": content},
				"done": true, "prompt_eval_count": 50, "eval_count": 20})
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s, &decisions
}

// TestAgent500StepsContinuesAsNewWithinHistoryLimits runs a 500-step agent
// with a scripted model on the real Temporal server. It must finish, having
// continued as new with a compacted transcript, with every run's history
// far from Temporal's limits and flat per step.
func TestAgent500StepsContinuesAsNewWithinHistoryLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("long run; skipped with -short")
	}
	s := testenv.Start(t)
	ollama, _ := scriptedOllama(t, 500)
	td := startTandem(t)
	cfg := td.cfg
	cfg.OllamaHost, cfg.Model = ollama.URL, "scripted"
	cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-long", "e2e-long-model"
	cfg.ModelParallel = 4
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "long.db"))
	require.NoError(t, err)
	defer db.Close()
	c := s.Client(t)
	w, err := workers.Start(c, cfg, db)
	require.NoError(t, err)
	defer w.Stop()

	policy := workflows.AgentPolicy{Tools: []string{"calculate", "today"}, MaxSteps: 1000, MaxTokens: 10_000_000, Deadline: time.Hour}
	start := time.Now()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "agent-long-" + fmt.Sprint(start.UnixNano()), TaskQueue: cfg.TaskQueue},
		workflows.AgentName, workflows.AgentInput{Goal: "compute 1+1 five hundred times", Profile: "research", Policy: &policy,
			Model: workflows.ModelSettings{Model: "scripted", TaskQueue: cfg.ModelTaskQueue}})
	require.NoError(t, err)
	var res workflows.AgentResult
	require.NoError(t, run.Get(context.Background(), &res))
	elapsed := time.Since(start)

	assert.Equal(t, "finished", res.Outcome)
	assert.Equal(t, "2", res.Answer)
	assert.Equal(t, 501, res.Budget.Steps)
	assert.Positive(t, res.Runs, "the run continued as new")

	runs, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s'", run.GetID())})
	require.NoError(t, err)
	require.Len(t, runs.GetExecutions(), res.Runs+1)
	var events, bytes, maxEvents int
	for _, r := range runs.GetExecutions() {
		n, size := 0, 0
		iter := c.GetWorkflowHistory(context.Background(), run.GetID(), r.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			n++
			size += proto.Size(ev)
		}
		events, bytes, maxEvents = events+n, bytes+size, max(maxEvents, n)
	}
	assert.Less(t, maxEvents, 10_000, "every run stays far below the 51,200-event limit")
	perStep := bytes / res.Budget.Steps
	assert.Less(t, perStep, 4000, "history per step stays small and flat")
	t.Logf("500-step agent: %s, %d runs, %d events (largest run %d), %d history bytes, %d bytes and %.1f events per step, %.1f ms per step",
		elapsed.Round(time.Millisecond), res.Runs+1, events, maxEvents, bytes, perStep, float64(events)/float64(res.Budget.Steps),
		float64(elapsed.Milliseconds())/float64(res.Budget.Steps))
}
