package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

// scriptedOllama speaks Ollama's chat API with answers from answer, which
// sees each request's format (JSON schema; "tools" for a native
// tool-calling request) and its last message. An answer "TOOLCALL {json}"
// is a native tool call: {"name": …, "arguments": {…}}.
func scriptedOllama(t testing.TB, answer func(format, last string) string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/tags":
			w.Write([]byte(`{"models":[{"name":"scripted:latest","model":"scripted:latest","digest":"sha256:5c41b7ed"}]}`))
		case "/api/chat":
			var req struct {
				Format   json.RawMessage `json:"format"`
				Tools    json.RawMessage `json:"tools"`
				Messages []struct {
					Content string `json:"content"`
				} `json:"messages"`
			}
			require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
			last := ""
			if len(req.Messages) > 0 {
				last = req.Messages[len(req.Messages)-1].Content
			}
			format := string(req.Format)
			if len(req.Tools) > 0 && format == "" {
				format = "tools"
			}
			message := map[string]any{"role": "assistant", "content": answer(format, last)}
			if call, ok := strings.CutPrefix(message["content"].(string), "TOOLCALL "); ok {
				message["content"], message["tool_calls"] = "", []map[string]json.RawMessage{{"function": json.RawMessage(call)}}
			}
			body, _ := json.Marshal(map[string]any{"model": "scripted", "done": true, "prompt_eval_count": 50, "eval_count": 20,
				"message": message})
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// calculatingAgent answers summaries with a summary, and agent steps with
// calculate until it has made steps decisions, then finish.
func calculatingAgent(steps int64) func(format, last string) string {
	var decisions atomic.Int64
	return func(format, _ string) string {
		switch {
		case strings.Contains(format, `"summary"`):
			return `{"summary":"computed 1+1 many times; the answer is 2"}`
		case decisions.Add(1) <= steps:
			return `{"thought":"compute","action":{"tool":"calculate","args":{"expression":"1+1"}}}`
		}
		return `{"thought":"done","action":{"tool":"finish","args":{"answer":"2","sources":["calculate"]}}}`
	}
}

// scriptedTandem starts a worker on its own task queues whose model is the
// scripted server.
func scriptedTandem(t testing.TB, name string, answer func(format, last string) string) (*tandem, client.Client) {
	t.Helper()
	return scriptedTandemWith(t, name, answer, 4)
}

// scriptedTandemWith is scriptedTandem with modelParallel model calls at once.
func scriptedTandemWith(t testing.TB, name string, answer func(format, last string) string, modelParallel int) (*tandem, client.Client) {
	t.Helper()
	td := startTandem(t)
	ollama := scriptedOllama(t, answer)
	cfg := td.cfg
	cfg.OllamaHost, cfg.Model = ollama.URL, "scripted"
	// Queues of the test's own: tests that share a name never take each
	// other's tasks, nor end each other's runs.
	cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-"+name+"-"+t.Name(), "e2e-"+name+"-model-"+t.Name()
	cfg.ModelParallel = modelParallel
	c := td.servers.Client(t)
	startWorkers(t, c, cfg, td.records)
	td.cfg = cfg
	return td, c
}

// TestAgent500StepsContinuesAsNewWithinHistoryLimits runs a 500-step agent
// with a scripted model on the real Temporal server. It must finish, having
// continued as new with a compacted transcript, with every run's history
// far from Temporal's limits and flat per step.
func TestAgent500StepsContinuesAsNewWithinHistoryLimits(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long run; skipped with -short")
	}
	td, c := scriptedTandem(t, "long", calculatingAgent(500))
	cfg := td.cfg

	policy := workflows.AgentPolicy{Tools: []string{"calculate", "today"}, MaxSteps: 1000, MaxTokens: 10_000_000, Deadline: time.Hour}
	start := time.Now()
	agent, err := api.NewClient(c, cfg.TaskQueue).StartAgent(context.Background(), api.WorkflowID("agent", "long-"+fmt.Sprint(start.UnixNano())),
		workflows.AgentInput{Goal: "compute 1+1 five hundred times", Profile: longRunProfile, Policy: &policy,
			Model: workflows.ModelSettings{Model: "scripted", TaskQueue: cfg.ModelTaskQueue}})
	require.NoError(t, err)
	run := agent.Run
	res, err := agent.Result(context.Background())
	require.NoError(t, err)
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

// TestManyAgentsAtOnce runs eight agents concurrently, each with its own
// workflow id and transcript.
func TestManyAgentsAtOnce(t *testing.T) {
	t.Parallel()
	td, c := scriptedTandem(t, "many", calculatingAgent(1<<40))
	policy := workflows.AgentPolicy{Tools: []string{"calculate"}, MaxSteps: 5, MaxTokens: 100_000, Deadline: time.Hour}
	var runs []client.WorkflowRun
	var ids []any
	for i := range 8 {
		agent, err := api.NewClient(c, td.cfg.TaskQueue).StartAgent(context.Background(), api.WorkflowID("agent", fmt.Sprintf("many-%d-%d", time.Now().UnixNano(), i)),
			workflows.AgentInput{Goal: fmt.Sprintf("goal %d", i), Profile: longRunProfile, Policy: &policy,
				Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
		require.NoError(t, err)
		runs = append(runs, agent.Run)
		ids = append(ids, agent.ID)
	}
	for _, run := range runs {
		var res workflows.AgentResult
		require.NoError(t, run.Get(context.Background(), &res))
		assert.Equal(t, "budget", res.Outcome)
		assert.Len(t, res.Trail, 5)
	}
	var transcripts int
	storetest.Scan(t, td.db, `SELECT count(DISTINCT run_key) FROM agent_turns WHERE run_key IN (?, ?, ?, ?, ?, ?, ?, ?)`, ids, &transcripts)
	assert.Equal(t, 8, transcripts, "one transcript per agent")
}

// TestOperationsAgentHandsATicketToTicketRouting: the scripted model routes
// a ticket with the route_ticket tool, which runs the ticket routing
// workflow as a real child, and finishes with what it decided.
func TestOperationsAgentHandsATicketToTicketRouting(t *testing.T) {
	t.Parallel()
	var routed atomic.Bool
	td, c := scriptedTandem(t, "ops", func(format, last string) string {
		switch {
		case strings.Contains(format, `"category"`):
			return `{"category":"shipping","priority":"normal","sentiment":"neutral","language":"fr","summary":"parcel not received"}`
		case format == "" || format == "null":
			return "Bonjour, nous vérifions votre colis."
		case strings.Contains(last, "route_ticket {"):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"routed to logistics","sources":["TicketRouting"]}}}`
		}
		routed.Store(true)
		return `{"thought":"this is a ticket","action":{"tool":"route_ticket","args":{"subject":"Colis non reçu","body":"Je n'ai rien reçu.","customer":"Camille Martin","channel":"web"}}}`
	})
	agent, err := api.NewClient(c, td.cfg.TaskQueue).StartAgent(context.Background(), api.WorkflowID("agent", "colis-"+fmt.Sprint(time.Now().UnixNano())),
		workflows.AgentInput{Goal: "Handle: Colis non reçu — je n'ai rien reçu.", Profile: "operations",
			Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	run := agent.Run
	res, err := agent.Result(context.Background())
	require.NoError(t, err)
	require.True(t, routed.Load())
	assert.Equal(t, "finished", res.Outcome)
	require.Len(t, res.Trail, 1)
	assert.Equal(t, "route_ticket", res.Trail[0].Tool)
	assert.Contains(t, res.Read, workflows.TicketRoutingName)

	child := c.GetWorkflow(context.Background(), run.GetID()+"-step-1-route-ticket", "")
	var ticket workflows.TicketRoutingResult
	require.NoError(t, child.Get(context.Background(), &ticket), "the child ran on the fixed path")
	assert.Equal(t, "logistics", ticket.Route.Queue)
	assert.True(t, ticket.Review.Sent)
}
