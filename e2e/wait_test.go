package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

// TestASleepingAgentIsListedAndAnEventWakesIt runs an agent that sleeps
// until results arrive, on the real servers: `starter list --sleeping` and
// `starter status` show until when; `starter event` delivers the results
// and wakes it; then a second sleep is ended by an event through the HTTP
// trigger API.
func TestASleepingAgentIsListedAndAnEventWakesIt(t *testing.T) {
	t.Parallel()
	profiles := agentProfile(t, "name: patient\ninstructions: Wait for the results, then report.\n"+
		"tools: [wait, wait_for_event, today]\nbudgets: {deadline: 30d}\n")
	model := scriptedOllama(t, func(format, last string) string {
		switch {
		case strings.Contains(last, "woken after"):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"the results are in","sources":[]}}}`
		case strings.Contains(last, "arrived after"):
			return `{"thought":"wait for more","action":{"tool":"wait","args":{"duration":"14d","reason":"the second round of results"}}}`
		}
		return `{"thought":"wait","action":{"tool":"wait_for_event","args":{"event":"survey-results","timeout":"7d"}}}`
	})
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model, c.ProfilesDir = model.URL, "scripted", profiles })
	c := td.servers.Client(t)
	tandemClient := api.NewClient(c, td.cfg.TaskQueue)
	ctx := context.Background()
	run, err := tandemClient.StartAgent(ctx, api.WorkflowID("agent", fmt.Sprintf("patient-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "patient", Goal: "report the campaign's results", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)

	var listed string
	require.Eventually(t, func() bool {
		_, listed, _ = td.starter(t, "list", "--sleeping")
		return strings.Contains(listed, run.ID)
	}, time.Minute, 200*time.Millisecond, "the sleeping agent is listed")
	assert.Contains(t, listed, "sleeping until ")
	code, status, stderr := td.starter(t, "status", run.ID)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, status, "step: sleeping")
	assert.Contains(t, status, "sleeping until ")

	code, out, stderr := td.starter(t, "event", run.ID, "survey-results", "--from", "mailer", "--data", `{"opens":120,"clicks":9}`)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "Delivered survey-results to "+run.ID)

	require.Eventually(t, func() bool { // the second sleep
		st, err := run.Status(ctx)
		return err == nil && st.SleepingUntil != nil && time.Until(*st.SleepingUntil) > 13*24*time.Hour
	}, time.Minute, 200*time.Millisecond)
	srv := httptestTrigger(t, tandemClient)
	code, body := call(t, srv, http.MethodPost, "/v1/runs/"+run.ID+"/events", testToken, map[string]any{"name": "survey-results", "from": "mailer", "data": `{"opens":300}`})
	require.Equal(t, http.StatusOK, code, body)

	res, err := run.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, "finished", res.Outcome)
	assert.Equal(t, []string{"wait_for_event(ok)", "wait(ok)"}, trailOf(res))
	_, listed, _ = td.starter(t, "list", "--sleeping")
	assert.NotContains(t, listed, run.ID, "an agent that woke is not listed as sleeping")
}

// TestAPolicyChangeReachesARunningAgent: an agent sleeps; its worker stops
// and comes back with a data policy that denies a tool; the event that
// wakes the agent finds it under the new policy: the model is no longer
// offered the tool, the run records the change, and `starter audit` shows
// it.
func TestAPolicyChangeReachesARunningAgent(t *testing.T) {
	t.Parallel()
	profiles := agentProfile(t, "name: patient\ninstructions: Wait, then check the date.\n"+
		"tools: [wait_for_event, today]\n")
	strict := filepath.Join(t.TempDir(), "strict.yaml")
	require.NoError(t, os.WriteFile(strict, []byte("version: 1\nagent:\n  deny: [today]\n"), 0o600))
	var mu sync.Mutex
	var offered []bool // whether each decision's schema offered today
	model := scriptedOllama(t, func(format, last string) string {
		mu.Lock()
		offered = append(offered, strings.Contains(format, `"today"`))
		mu.Unlock()
		if strings.Contains(last, "arrived after") {
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"woken","sources":[]}}}`
		}
		return `{"thought":"wait","action":{"tool":"wait_for_event","args":{"event":"go","timeout":"1d"}}}`
	})
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model, c.ProfilesDir = model.URL, "scripted", profiles })
	c := td.servers.Client(t)
	cfg := td.cfg
	cfg.TaskQueue, cfg.ModelTaskQueue = cfg.TaskQueue+"-change", cfg.ModelTaskQueue+"-change"
	start := func(cfg config.Config) *workers.Workers {
		snap, err := workers.Preflight(context.Background(), cfg)
		require.NoError(t, err)
		w, err := workers.Start(c, cfg, td.records, snap, nil)
		require.NoError(t, err)
		t.Cleanup(w.Stop)
		return w
	}
	first := start(cfg)
	tandemClient := api.NewClient(c, cfg.TaskQueue)
	ctx := context.Background()
	run, err := tandemClient.StartAgent(ctx, api.WorkflowID("agent", fmt.Sprintf("policy-change-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "patient", Goal: "wait for the go", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: cfg.ModelTaskQueue}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := run.Status(ctx)
		return err == nil && st.SleepingUntil != nil
	}, time.Minute, 100*time.Millisecond)
	first.Stop()
	cfg.PolicyFile = strict
	start(cfg)
	require.NoError(t, tandemClient.Event(ctx, run.ID, workflows.AgentEvent{Name: "go", From: "ops"}))

	res, err := run.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, "finished", res.Outcome)
	mu.Lock()
	assert.Equal(t, []bool{true, false}, offered, "today is offered before the change, and not after")
	mu.Unlock()
	require.NotEmpty(t, res.Events)
	assert.Equal(t, "policy changed", res.Events[0].Kind)
	code, audit, stderr := td.starter(t, "audit", run.ID)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, audit, "data policy changed to: sha256:")
	assert.Contains(t, audit, "("+strict+")")
}
