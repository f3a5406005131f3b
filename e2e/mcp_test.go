package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/mcptools/mcptest"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/workflows"
)

// The personal data in the file the MCP tests' agent reads.
const (
	notesEmail = "dana.whitfield@example.org"
	notesPhone = "+44 20 7946 0958"
)

// clerkTandem starts a worker whose data policy declares the real
// filesystem MCP server on dir, and whose profiles include clerk, an agent
// that reads and writes files there; its model is answer, behind a proxy
// that records every request.
func clerkTandem(t *testing.T, dir string, answer func(format, last string) string) (*tandem, client.Client, *recordingProxy) {
	t.Helper()
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, fmt.Appendf(nil, `version: 1
redaction:
  detectors: [email, phone]
  restoreOutputs: true
mcp:
  servers:
    - name: files
      command: %s
      args: [%s]
      timeout: 30s
      attempts: 2
`, testenv.MCPServerBin(t, "mcp-server-filesystem"), dir), 0o600))
	profilesDir := agentProfile(t, `name: clerk
description: files the day's notes
instructions: Read the notes, then write the reply file.
goal: "File the notes in {{.folder}}"
tools: [files.read_text_file, files.write_file, files.list_directory]
budgets: {maxSteps: 5, deadline: 5m}
approvals:
  approvers: [office.manager]
`)
	proxy := newRecordingProxy(t, scriptedOllama(t, answer).URL)
	td := startTandemWith(t, func(c *config.Config) {
		c.OllamaHost, c.Model, c.PolicyFile, c.ProfilesDir = proxy.URL, "scripted", policyFile, profilesDir
	})
	return td, td.servers.Client(t), proxy
}

// clerk reads notes.txt, then writes reply.txt, then finishes.
func clerk(dir string) func(format, last string) string {
	return func(format, last string) string {
		switch {
		case strings.Contains(last, "files.write_file"):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"filed","sources":["files.read_text_file"]}}}`
		case strings.Contains(last, "files.read_text_file"):
			return fmt.Sprintf(`{"thought":"write the reply","action":{"tool":"files.write_file","args":{"path":%q,"content":"filed for Dana"}}}`,
				filepath.Join(dir, "reply.txt"))
		}
		return fmt.Sprintf(`{"thought":"read the notes","action":{"tool":"files.read_text_file","args":{"path":%q}}}`, filepath.Join(dir, "notes.txt"))
	}
}

// TestAnAgentUsesTheFilesystemMCPServerUnderTheDataPolicy runs the real
// third-party filesystem MCP server over stdio as the agent's tools. The
// agent reads a file (allowed) and writes one (a write: it needs a
// person). Rejected, the file is untouched; approved, it is written; in
// sandbox mode nothing is written. The personal data in the file reaches
// the model only as placeholders.
func TestAnAgentUsesTheFilesystemMCPServerUnderTheDataPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("Call Dana on "+notesPhone+" or write to "+notesEmail+" about the refund."), 0o600))
	td, c, proxy := clerkTandem(t, dir, clerk(dir))
	tandemClient := api.NewClient(c, td.cfg.TaskQueue)
	ctx := context.Background()
	model := workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}
	reply := filepath.Join(dir, "reply.txt")

	runClerk := func(ctx context.Context, name string, decide *workflows.Decision) (string, workflows.AgentResult) {
		t.Helper()
		run, err := tandemClient.StartAgent(ctx, api.WorkflowID("agent", fmt.Sprintf("mcp-%s-%d", name, time.Now().UnixNano())),
			workflows.AgentInput{Profile: "clerk", Vars: map[string]string{"folder": dir}, Model: model})
		require.NoError(t, err)
		if decide != nil {
			var pending *workflows.PendingDecision
			require.Eventually(t, func() bool {
				st, err := run.Status(ctx)
				pending = st.Pending
				return err == nil && pending != nil
			}, time.Minute, 100*time.Millisecond, "the write waits for a person")
			assert.Equal(t, []string{"office.manager"}, pending.Approvers)
			assert.Contains(t, pending.Question, "files.write_file")
			require.NoError(t, run.Decide(ctx, *decide))
		}
		res, err := run.Result(ctx)
		require.NoError(t, err)
		return run.ID, res
	}

	_, rejected := runClerk(ctx, "rejected", &workflows.Decision{Approve: false, By: "office.manager", Reason: "not today"})
	assert.Equal(t, "finished", rejected.Outcome)
	assert.Equal(t, []string{"files.read_text_file(ok)", "files.write_file(rejected)"}, trailOf(rejected))
	assert.NoFileExists(t, reply, "a rejected write is never made")

	approvedID, approved := runClerk(ctx, "approved", &workflows.Decision{Approve: true, By: "office.manager"})
	assert.Equal(t, []string{"files.read_text_file(ok)", "files.write_file(ok)"}, trailOf(approved))
	body, err := os.ReadFile(reply)
	require.NoError(t, err)
	assert.Equal(t, "filed for Dana", string(body))
	var calls int
	storetest.Scan(t, td.db, `SELECT count(*) FROM mcp_calls WHERE tool = 'write_file' AND status = 'done'`, nil, &calls)
	assert.Equal(t, 1, calls, "the write was made once")

	code, audit, stderr := td.starter(t, "audit", approvedID)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, audit, "  MCP calls: 2\n")
	write := fmt.Sprintf(`{"content":"filed for Dana","path":%q}`, reply)
	assert.Contains(t, audit, fmt.Sprintf("step 2   files.write_file args %s: ok\n", activities.ArgsDigest(json.RawMessage(write))),
		"the audit names each MCP call's server, tool, argument digest and outcome")

	require.NoError(t, os.Remove(reply))
	_, sandboxed := runClerk(sandbox.With(ctx, true), "sandbox", &workflows.Decision{Approve: true, By: "office.manager"})
	assert.Equal(t, []string{"files.read_text_file(ok)", "files.write_file(ok)"}, trailOf(sandboxed))
	assert.NoFileExists(t, reply, "a sandboxed run records the write and does not make it")
	var effects int
	storetest.Scan(t, td.db, `SELECT count(*) FROM sandbox_effects WHERE kind = 'mcp:files.write_file'`, nil, &effects)
	assert.Equal(t, 1, effects)

	sent := proxy.sent()
	assert.Contains(t, sent, "about the refund", "the file's text reached the model")
	for _, value := range []string{notesEmail, notesPhone} {
		assert.NotContains(t, sent, value, "personal data in an MCP result reaches the model only as placeholders")
	}
	assert.Contains(t, sent, "[EMAIL_1]")
}

// TestAnUnreachableMCPServerEndsTheRunWithASentence declares a server
// whose command does not exist: the run ends saying so, and nothing hangs.
func TestAnUnreachableMCPServerEndsTheRunWithASentence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td, c, _ := clerkTandem(t, dir, clerk(dir))
	_ = td
	policy := strings.ReplaceAll(mustRead(t, td.cfg.PolicyFile), testenv.MCPServerBin(t, "mcp-server-filesystem"), "/nonexistent/mcp-server-filesystem")
	require.NoError(t, os.WriteFile(td.cfg.PolicyFile, []byte(policy), 0o600))
	cfg := td.cfg
	cfg.TaskQueue, cfg.ModelTaskQueue = cfg.TaskQueue+"-ghost", cfg.ModelTaskQueue+"-ghost"
	startWorkers(t, c, cfg, td.records)
	run, err := api.NewClient(c, cfg.TaskQueue).StartAgent(context.Background(), api.WorkflowID("agent", fmt.Sprintf("mcp-ghost-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "clerk", Goal: "file the notes", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: cfg.ModelTaskQueue}})
	require.NoError(t, err)
	res, err := run.Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "unavailable", res.Outcome)
	assert.Equal(t, `the agent's MCP tools are unavailable: MCP server files could not be started: "/nonexistent/mcp-server-filesystem": no such file or directory; `+
		`check its command in the data policy's mcp.servers`, res.Reason)
}

func trailOf(res workflows.AgentResult) []string {
	var out []string
	for _, e := range res.Trail {
		out = append(out, fmt.Sprintf("%s(%s)", e.Tool, e.Outcome))
	}
	return out
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// TestAnApprovedMCPWriteIsMadeOnceWhenTheWorkerDiesDuringIt runs the real
// worker binary with an MCP server whose write takes seconds, approves the
// write, and kills the worker (kill -9) while the server is writing. The
// server stops with the worker; another worker retries the call, and the
// file is written once.
func TestAnApprovedMCPWriteIsMadeOnceWhenTheWorkerDiesDuringIt(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "ledger.txt")
	model := scriptedOllama(t, func(format, last string) string {
		if strings.Contains(last, "local.slow_write") {
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"written","sources":[]}}}`
		}
		return fmt.Sprintf(`{"thought":"write it","action":{"tool":"local.slow_write","args":{"path":%q,"content":"once","seconds":6}}}`, target)
	})
	policyFile := filepath.Join(dir, "policy.yaml")
	server := mcptest.Server("local")
	require.NoError(t, os.WriteFile(policyFile, fmt.Appendf(nil, "version: 1\nmcp:\n  servers:\n    - name: local\n      command: %s\n      args: [%q]\n      env: [%q]\n",
		server.Command, server.Args[0], server.Env[0]), 0o600))
	profiles := agentProfile(t, "name: writer\ninstructions: Write what you are asked to.\n"+
		"tools: [local.slow_write]\napprovals:\n  approvers: [office.manager]\n")
	db := storetest.Setting(t)
	queue := fmt.Sprintf("e2e-mcp-kill-%d", time.Now().UnixNano())
	logFile, err := os.Create(filepath.Join(dir, "worker.log"))
	require.NoError(t, err)
	defer logFile.Close()
	env := append(workerEnv(s, queue, model.URL, "scripted", db, filepath.Join(dir, "reports")),
		"TANDEM_POLICY_FILE="+policyFile, "TANDEM_PROFILES_DIR="+profiles, "TANDEM_HEALTH_ADDR=")
	first := &workerProcess{t: t, env: env, log: logFile}
	first.start()
	defer first.kill9()

	c := s.Client(t)
	tandemClient := api.NewClient(c, queue)
	ctx := context.Background()
	var run *api.Run[workflows.AgentResult]
	require.Eventually(t, func() bool { // the profile is the worker's: the client asks it
		run, err = tandemClient.StartAgent(ctx, api.WorkflowID("agent", queue), workflows.AgentInput{Profile: "writer", Goal: "write once",
			Model: workflows.ModelSettings{Model: "scripted", TaskQueue: queue + "-model"}})
		return err == nil
	}, time.Minute, 500*time.Millisecond, "the worker starts and serves its profiles")
	require.Eventually(t, func() bool {
		st, err := run.Status(ctx)
		return err == nil && st.Pending != nil
	}, time.Minute, 100*time.Millisecond)
	require.NoError(t, run.Decide(ctx, workflows.Decision{Approve: true, By: "office.manager"}))

	require.Eventually(t, func() bool {
		var started int
		storetest.Scan(t, db, `SELECT count(*) FROM mcp_calls WHERE status = 'started'`, nil, &started)
		return started == 1
	}, time.Minute, 50*time.Millisecond, "the call is under way")
	time.Sleep(time.Second)
	first.kill9()
	assert.NoFileExists(t, target, "the server stopped with the worker, before it wrote")

	second := &workerProcess{t: t, env: env, log: logFile}
	second.start()
	defer second.kill9()
	res, err := run.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"local.slow_write(ok)"}, trailOf(res))
	body, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "once", string(body))
	writes, err := os.ReadFile(target + ".writes")
	require.NoError(t, err)
	assert.Equal(t, "written\n", string(writes), "the file was written once")
}

// TestMCPFailuresReachTheModelAsOneSentence: a server that crashes during
// a call is started again and the call retried, then the model reads what
// failed; a result over the policy's limit is refused in a sentence.
func TestMCPFailuresReachTheModelAsOneSentence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	server := mcptest.Server("local")
	require.NoError(t, os.WriteFile(policyFile, fmt.Appendf(nil, "version: 1\nmcp:\n  servers:\n    - name: local\n      command: %s\n"+
		"      args: [%q]\n      env: [%q]\n      attempts: 2\n      maxResult: 2000\n      trusted: true\n", server.Command, server.Args[0], server.Env[0]), 0o600))
	profiles := agentProfile(t, "name: tester\ninstructions: Try the tools.\n"+
		"tools: [local.crash, local.sized]\n")
	proxy := newRecordingProxy(t, scriptedOllama(t, func(format, last string) string {
		switch {
		case strings.Contains(last, "local.sized"):
			return `{"thought":"done","action":{"tool":"finish","args":{"answer":"both failed","sources":[]}}}`
		case strings.Contains(last, "local.crash"):
			return `{"thought":"ask for a lot","action":{"tool":"local.sized","args":{"characters":5000}}}`
		}
		return `{"thought":"try it","action":{"tool":"local.crash","args":{}}}`
	}).URL)
	td := startTandemWith(t, func(c *config.Config) {
		c.OllamaHost, c.Model, c.PolicyFile, c.ProfilesDir = proxy.URL, "scripted", policyFile, profiles
	})
	run, err := api.NewClient(td.servers.Client(t), td.cfg.TaskQueue).StartAgent(context.Background(),
		api.WorkflowID("agent", fmt.Sprintf("mcp-failures-%d", time.Now().UnixNano())),
		workflows.AgentInput{Profile: "tester", Goal: "try the tools", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	res, err := run.Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"local.crash(failed)", "local.sized(failed)"}, trailOf(res))
	sent := proxy.sent()
	assert.Contains(t, sent, "failed during the call of crash")
	assert.Contains(t, sent, "it wrote: test server: crashing as asked")
	assert.Contains(t, sent, "the result of local.sized is 5,000 characters, over the 2,000 that the data policy allows for server local (maxResult); ask for less of it")
}
