package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

// TestWhatOneRunRemembersALaterRunRecalls: a first agent run remembers a
// fact about a customer, with an email address in it; a second run recalls
// it. The store and the second prompt hold the fact with the address's
// kind in its place, and `starter audit` of the first run shows it.
func TestWhatOneRunRemembersALaterRunRecalls(t *testing.T) {
	t.Parallel()
	profiles := agentProfile(t, "name: account\ninstructions: Keep track of customers.\n"+
		"tools: [remember, recall, lookup_customer]\n")
	proxy := newRecordingProxy(t, scriptedOllama(t, func(format, last string) string {
		switch {
		case strings.Contains(last, "Goal: note"):
			if strings.Contains(last, "remembered about C-100") {
				return `{"thought":"done","action":{"tool":"finish","args":{"answer":"noted","sources":[]}}}`
			}
			return `{"thought":"keep it","action":{"tool":"remember","args":{"subject":"C-100","fact":"prefers to be written to at priya@example.net, never called"}}}`
		case strings.Contains(last, "newest first"):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"write, do not call","sources":["memory:c-100"]}}}`
		}
		return `{"thought":"what do we know","action":{"tool":"recall","args":{"subject":"C-100"}}}`
	}).URL)
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model, c.ProfilesDir = proxy.URL, "scripted", profiles })
	tandemClient := api.NewClient(td.servers.Client(t), td.cfg.TaskQueue)
	ctx := context.Background()
	runAgent := func(goal string) (string, workflows.AgentResult) {
		run, err := tandemClient.StartAgent(ctx, api.WorkflowID("agent", fmt.Sprintf("memory-%d", time.Now().UnixNano())),
			workflows.AgentInput{Profile: "account", Goal: goal, Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
		require.NoError(t, err)
		res, err := run.Result(ctx)
		require.NoError(t, err)
		return run.ID, res
	}
	first, res := runAgent("note how customer C-100 wants to be reached")
	assert.Equal(t, []string{"remember(ok)"}, trailOf(res))
	_, res = runAgent("how should we reach customer C-100?")
	assert.Equal(t, []string{"recall(ok)"}, trailOf(res))
	assert.Equal(t, "write, do not call", res.Answer)

	var stored string
	storetest.Scan(t, td.db, `SELECT fact FROM agent_memory WHERE subject = 'c-100'`, nil, &stored)
	assert.Equal(t, "prefers to be written to at [EMAIL], never called", stored, "facts are redacted before they are stored")
	assert.Contains(t, proxy.sent(), "prefers to be written to at [EMAIL], never called", "the later run recalls it")
	code, audit, stderr := td.starter(t, "audit", first)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, audit, "remembered at step 1: remembered about C-100: prefers to be written to at [EMAIL], never called")
}
