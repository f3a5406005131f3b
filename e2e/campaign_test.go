package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

// marketer is a scripted marketing model that follows the latest step of
// the transcript: it reviews the campaign,
// publishes an email, schedules it, waits for results until two reports
// came, waits out the campaign's last days (again after a third report), writes the report and
// finishes. In a sandboxed run it reports after the send.
func marketer(sendOn string) func(format, last string) string {
	act := func(tool, args string) string {
		return fmt.Sprintf(`{"thought":"next: %s","action":{"tool":%q,"args":%s}}`, tool, tool, args)
	}
	return func(_, last string) string {
		if i := strings.LastIndex(last, "\nStep "); i >= 0 {
			last = last[i:] // the latest step only
		}
		switch {
		case strings.Contains(last, "report campaign-CMP-SPRING") || strings.Contains(last, "sandbox: campaign_report"):
			return act("finish", `{"answer":"CMP-SPRING reported","sources":["campaign:CMP-SPRING"]}`)
		case strings.Contains(last, "slept ") || strings.Contains(last, "sandbox: schedule_send"):
			return act("campaign_report", `{"campaignId":"CMP-SPRING","summary":"One email carried it.","learnings":"Send earlier."}`)
		case strings.Contains(last, "recorded results week-2"), strings.Contains(last, "recorded results week-3"):
			return act("wait", `{"duration":"8d","reason":"the campaign's last day"}`)
		case strings.Contains(last, "scheduled CMP-SPRING-V1"), strings.Contains(last, "no campaign-results event came"),
			strings.Contains(last, "campaign-results from mailer"):
			return act("wait_for_event", `{"event":"campaign-results","timeout":"7d"}`)
		case strings.Contains(last, "published CMP-SPRING-V1"), strings.Contains(last, "sandbox: publish_content"):
			return act("schedule_send", fmt.Sprintf(`{"campaignId":"CMP-SPRING","contentId":"CMP-SPRING-V1","audienceId":"AUD-NEWS","sendOn":%q,"spend":600}`, sendOn))
		case strings.Contains(last, "Goal 400 conversions"):
			return act("publish_content", `{"campaignId":"CMP-SPRING","channel":"email","variant":"gift-led","subject":"Quiet, anywhere","body":"Headphones that make room for you."}`)
		}
		return act("campaign_status", `{"campaignId":"CMP-SPRING"}`)
	}
}

// TestACampaignOnTheRealServers runs the marketing-campaign profile on the
// real servers with a data policy that shortens every wait to seconds: a
// person approves the publication through the starter, results arrive
// once through `starter campaign-results` and once through the HTTP
// trigger API and a third time through Tandem's MCP server, and the report
// adds them up. A sandboxed run of the same
// campaign writes nothing: its publication, send and report are recorded
// as what it would have done.
func TestACampaignOnTheRealServers(t *testing.T) {
	t.Parallel()
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte("version: 1\nagent:\n  maxWait: 3s\n"), 0o600))
	model := scriptedOllama(t, marketer(time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)))
	td := startTandemWith(t, func(c *config.Config) { c.OllamaHost, c.Model, c.PolicyFile = model.URL, "scripted", policyFile })
	tandemClient := api.NewClient(td.servers.Client(t), td.cfg.TaskQueue)
	ctx := context.Background()

	start := func(args ...string) string {
		code, out, stderr := td.starter(t, append([]string{"agent", "--profile", "marketing-campaign", "--var", "campaign=CMP-SPRING",
			"--wait=false", "-o", "json"}, args...)...)
		require.Equal(t, 0, code, stderr)
		var started struct {
			WorkflowID string `json:"workflowId"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &started), out)
		return started.WorkflowID
	}
	approve := func(id string) {
		require.Eventually(t, func() bool {
			st, err := tandemClient.Status(ctx, id)
			return err == nil && st.Pending != nil
		}, time.Minute, 100*time.Millisecond, "the publication waits for a person")
		code, _, stderr := td.starter(t, "approve", id, "--by", "marketing.lead")
		require.Equal(t, 0, code, stderr)
	}
	sleeping := func(id string) {
		require.Eventually(t, func() bool {
			st, err := tandemClient.Status(ctx, id)
			return err == nil && st.SleepingUntil != nil
		}, time.Minute, 100*time.Millisecond)
	}
	results := func(batch string, conversions int) string {
		return fmt.Sprintf(`{"campaign":"CMP-SPRING","batch":%q,"results":[{"content":"CMP-SPRING-V1","sent":9000,"opens":2800,"clicks":400,"conversions":%d,"spend":"300.00"}]}`,
			batch, conversions)
	}

	id := start()
	approve(id)
	sleeping(id)
	week1 := filepath.Join(t.TempDir(), "week-1.json")
	require.NoError(t, os.WriteFile(week1, []byte(results("week-1", 60)), 0o600))
	code, out, stderr := td.starter(t, "campaign-results", id, week1, "--from", "mailer")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Delivered results week-1 of CMP-SPRING to "+id+".\n", out)
	code, _, stderr = td.starter(t, "campaign-results", id, week1, "--from", "mailer")
	require.Equal(t, 0, code, "the same report again is taken and kept once: %s", stderr)

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"campaign":"CMP-SPRING","batch":"week 2","results":[]}`), 0o600))
	code, _, stderr = td.starter(t, "campaign-results", id, bad)
	assert.Equal(t, 2, code)
	assert.Equal(t, "starter: results file "+bad+": campaign results need a batch: one word of at most 40 characters naming the report, such as week-2\n", stderr)

	sleeping(id)
	srv := httptest.NewServer((&api.Server{Client: tandemClient, Namespace: "default", Token: testToken,
		MCPCallers: map[string]string{leadToken: "analytics"}}).Handler())
	t.Cleanup(srv.Close)
	var week2 map[string]any
	require.NoError(t, json.Unmarshal([]byte(results("week-2", 45)), &week2))
	week2["from"] = "crm"
	status, body := call(t, srv, http.MethodPost, "/v1/runs/"+id+"/campaign-results", testToken, week2)
	require.Equal(t, http.StatusOK, status, body)
	week2["results"] = []map[string]any{{"content": "CMP-WINTER-V1", "sent": 1, "opens": 0, "clicks": 0, "conversions": 0, "spend": "0"}}
	week2["batch"] = "week-3"
	status, body = call(t, srv, http.MethodPost, "/v1/runs/"+id+"/campaign-results", testToken, week2)
	assert.Equal(t, http.StatusConflict, status, "results for another campaign's content are refused")
	assert.Contains(t, body["error"], `name content "CMP-WINTER-V1", which campaign CMP-SPRING did not publish`)

	analytics, err := mcpSession(t, srv.URL+"/mcp", leadToken)
	require.NoError(t, err)
	var week3 map[string]any
	require.NoError(t, json.Unmarshal([]byte(results("week-3", 30)), &week3))
	week3["workflowId"] = id
	_, problem := callTool(t, analytics, "send_campaign_results", week3)
	require.Empty(t, problem, "results through Tandem's MCP server")

	res := agentResult(t, td, id)
	assert.Equal(t, "finished", res.Outcome, res.Reason)
	trail := trailOf(res)
	require.Greater(t, len(trail), 6, trail)
	assert.Equal(t, []string{"campaign_status(ok)", "publish_content(ok)", "schedule_send(ok)", "wait_for_event(ok)"}, trail[:4])
	assert.Equal(t, []string{"wait(ok)", "campaign_report(ok)"}, trail[len(trail)-2:], "it waited out the campaign, then reported")
	assert.Equal(t, []string{"CMP-SPRING-V1 marketing.lead"}, storetest.Strings(t, td.db,
		`SELECT id || ' ' || approved_by FROM campaign_content WHERE publish_key LIKE ?`, id+"/%"))
	assert.Equal(t, []string{"email:CMP-SPRING Quiet, anywhere"}, storetest.Strings(t, td.db,
		`SELECT recipients || ' ' || substr(subject, 17) FROM outbox WHERE workflow_id = ? AND idempotency_key LIKE 'publish/%'`, id), "the publication went through the outbox")
	assert.Equal(t, []string{"week-1 mailer 60", "week-2 crm 45", "week-3 analytics 30"}, storetest.Strings(t, td.db,
		`SELECT batch || ' ' || reported_by || ' ' || conversions FROM campaign_results WHERE campaign_id = 'CMP-SPRING' ORDER BY batch`))
	reports, err := filepath.Glob(filepath.Join(td.cfg.ReportsDir, "campaign-CMP-SPRING-*.json"))
	require.NoError(t, err)
	require.Len(t, reports, 1)
	var rep activities.CampaignReport
	require.NoError(t, json.Unmarshal([]byte(mustRead(t, reports[0])), &rep))
	assert.Equal(t, int64(135), rep.Conversions, "60+45+30: what the three reports delivered")
	assert.Equal(t, "600", rep.Scheduled.String())
	assert.Contains(t, mustRead(t, strings.TrimSuffix(reports[0], ".json")+".md"), "| CMP-SPRING-V1 | email | gift-led | marketing.lead | 1 | 27000 |")

	sandboxed := start("--sandbox")
	approve(sandboxed)
	res = agentResult(t, td, sandboxed)
	assert.Equal(t, "finished", res.Outcome, res.Reason)
	assert.Equal(t, 0, storetest.Int(t, td.db, `SELECT count(*) FROM campaign_content WHERE publish_key LIKE ?`, sandboxed+"/%"), "nothing published")
	assert.Equal(t, 0, storetest.Int(t, td.db, `SELECT count(*) FROM outbox WHERE workflow_id = ?`, sandboxed), "nothing sent")
	assert.Equal(t, 1, storetest.Int(t, td.db, `SELECT count(*) FROM campaign_sends WHERE campaign_id = 'CMP-SPRING'`), "only the real run's send")
	effects := storetest.Strings(t, td.db, `SELECT kind FROM sandbox_effects WHERE workflow_id = ? ORDER BY kind`, sandboxed)
	assert.Equal(t, []string{"campaign_report", "notification", "publish_content", "schedule_send"}, effects,
		"what it would have done is recorded: the approver's notice, the publication, the send and the report")
	code, audit, stderr := td.starter(t, "audit", sandboxed)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, audit, "Quiet, anywhere", "the audit shows what it would have sent")
}

// agentResult waits for an agent run's result.
func agentResult(t *testing.T, td *tandem, id string) workflows.AgentResult {
	var res workflows.AgentResult
	require.NoError(t, td.servers.Client(t).GetWorkflow(context.Background(), id, "").Get(context.Background(), &res))
	return res
}
