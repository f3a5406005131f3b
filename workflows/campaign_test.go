package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/store/storetest"
)

// campaignDay is the seeded spring campaign's day n (day 0 is its first),
// as the store's clock dates it.
func campaignDay(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format(time.DateOnly) }

func resultsEvent(batch string, lines ...string) AgentEvent {
	return AgentEvent{Name: CampaignResultsEvent, From: "mailer",
		Data: fmt.Sprintf(`{"campaign":"CMP-SPRING","batch":%q,"results":[%s]}`, batch, strings.Join(lines, ","))}
}

func resultLine(content string, sent, opens, clicks, conversions int, spend string) string {
	return fmt.Sprintf(`{"content":%q,"sent":%d,"opens":%d,"clicks":%d,"conversions":%d,"spend":%q}`, content, sent, opens, clicks, conversions, spend)
}

// TestASixWeekCampaignUnderTimeSkipping runs the marketing-campaign
// profile over six weeks of workflow time, on a scripted model and the real
// tools and store: every publication waits for a person, a rejected social
// variant is replaced, results arrive three times as events and are kept in
// the store before the agent hears of them, an event ends a two-week wait
// early, a send over the per-send limit is refused, and the final report
// adds up the results the store kept.
func TestASixWeekCampaignUnderTimeSkipping(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	records := storetest.Seeded(t)
	business := &activities.Store{Records: records}
	reports := t.TempDir()
	env.RegisterWorkflowWithOptions(Agent, workflow.RegisterOptions{Name: AgentName})
	env.RegisterActivity(testSettings(nil))
	env.RegisterActivity(&LoadedProfiles{List: Profiles})
	env.RegisterActivity(business)
	env.RegisterActivity(&activities.Tools{Store: business, ReportsDir: reports})
	var agent *activities.Agent
	env.RegisterActivity(agent)

	script := []activities.DecideResult{
		step("past_campaigns", `{"limit":2}`),
		step("campaign_status", `{"campaignId":"CMP-SPRING"}`),
		step("publish_content", `{"campaignId":"CMP-SPRING","channel":"email","variant":"gift-led","subject":"Quiet, anywhere","body":"Headphones that make room for you."}`),
		step("publish_content", `{"campaignId":"CMP-SPRING","channel":"social","variant":"price-led","subject":"30% off, today only!!!","body":"BUY NOW"}`),
		step("publish_content", `{"campaignId":"CMP-SPRING","channel":"social","variant":"story-led","subject":"A commute, unplugged","body":"One reader's quiet hour."}`),
		step("schedule_send", fmt.Sprintf(`{"campaignId":"CMP-SPRING","contentId":"CMP-SPRING-V1","audienceId":"AUD-NEWS","sendOn":%q,"spend":600}`, campaignDay(1))),
		step("schedule_send", fmt.Sprintf(`{"campaignId":"CMP-SPRING","contentId":"CMP-SPRING-V2","audienceId":"AUD-SOCIAL","sendOn":%q,"spend":900}`, campaignDay(1))),
		step("schedule_send", fmt.Sprintf(`{"campaignId":"CMP-SPRING","contentId":"CMP-SPRING-V2","audienceId":"AUD-SOCIAL","sendOn":%q,"spend":700}`, campaignDay(1))),
		step("wait_for_event", `{"event":"campaign-results","timeout":"10d"}`),
		step("campaign_status", `{"campaignId":"CMP-SPRING"}`),
		step("remember", `{"subject":"CMP-SPRING","fact":"the gift-led email converts four times better than the story-led post"}`),
		step("schedule_send", fmt.Sprintf(`{"campaignId":"CMP-SPRING","contentId":"CMP-SPRING-V1","audienceId":"AUD-LAPSED","sendOn":%q,"spend":500}`, campaignDay(8))),
		step("wait", `{"duration":"14d","reason":"the next results"}`),
		step("publish_content", `{"campaignId":"CMP-SPRING","channel":"email","variant":"gift-led-2","subject":"Give someone quiet","body":"The gift for the loudest commute."}`),
		step("schedule_send", fmt.Sprintf(`{"campaignId":"CMP-SPRING","contentId":"CMP-SPRING-V3","audienceId":"AUD-NEWS","sendOn":%q,"spend":800}`, campaignDay(21))),
		step("wait_for_event", `{"event":"campaign-results","timeout":"14d"}`),
		step("wait", `{"duration":"8d","reason":"the campaign's last day"}`),
		step("campaign_report", `{"campaignId":"CMP-SPRING","summary":"Email carried the campaign.","learnings":"Lead with gifts; keep social for stories."}`),
		step("finish", `{"answer":"CMP-SPRING reported","sources":["campaign:CMP-SPRING"]}`),
	}
	var asked []activities.DecideRequest
	env.OnActivity(agent.Decide, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.DecideRequest) (activities.DecideResult, error) {
		asked = append(asked, req)
		require.NotEmpty(t, script, "the model was asked more often than the campaign needs")
		next := script[0]
		script = script[1:]
		return next, nil
	})

	day := 24 * time.Hour
	approve := Decision{Approve: true, By: "marketing.lead", Reason: "on brand"}
	decideAfter(env, time.Hour, approve)
	decideAfter(env, 2*time.Hour, Decision{Approve: false, By: "marketing.lead", Reason: "shouting; we never run price-only posts"})
	decideAfter(env, 3*time.Hour, approve)
	week1 := sendEventAfter(env, 7*day, resultsEvent("week-1",
		resultLine("CMP-SPRING-V1", 18000, 5600, 800, 120, "600.00"), resultLine("CMP-SPRING-V2", 42000, 0, 900, 30, "700.00")))
	unknown := sendEventAfter(env, 8*day, AgentEvent{Name: CampaignResultsEvent, From: "mailer",
		Data: `{"campaign":"CMP-SPRING","batch":"week-2","results":[{"content":"CMP-WINTER-V1","sent":1,"opens":0,"clicks":0,"conversions":0,"spend":"0"}]}`})
	week3 := sendEventAfter(env, 20*day, resultsEvent("week-3", resultLine("CMP-SPRING-V1", 6400, 1900, 300, 70, "500.00")))
	decideAfter(env, 20*day+time.Hour, approve)
	week5 := sendEventAfter(env, 34*day, resultsEvent("week-5", resultLine("CMP-SPRING-V3", 18000, 6000, 1000, 160, "800.00")))
	start := env.Now()

	env.ExecuteWorkflow(Agent, AgentInput{Profile: "marketing-campaign", Vars: map[string]string{"campaign": "CMP-SPRING"},
		Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	require.NoError(t, env.GetWorkflowError())
	var res AgentResult
	require.NoError(t, env.GetWorkflowResult(&res))

	assert.Equal(t, "finished", res.Outcome, res.Reason)
	assert.Empty(t, script, "every scripted step ran")
	assert.GreaterOrEqual(t, env.Now().Sub(start), 42*day, "the campaign ran to its last day")
	for _, refused := range []*error{week1, week3, week5} {
		assert.NoError(t, *refused)
	}
	require.Error(t, *unknown, "results for content of another campaign are refused")
	assert.Contains(t, (*unknown).Error(), `name content "CMP-WINTER-V1", which campaign CMP-SPRING did not publish`)

	var kinds []string
	for _, e := range res.Events {
		if e.Tool == "publish_content" {
			kinds = append(kinds, e.Kind+" by "+e.By)
		}
	}
	assert.Equal(t, []string{"approved by marketing.lead", "rejected by marketing.lead", "approved by marketing.lead", "approved by marketing.lead"}, kinds,
		"each publication waited for a person")
	obs := map[string]string{}
	for _, req := range asked {
		for _, turn := range req.NewTurns {
			obs[turn.Tool+"@"+fmt.Sprint(turn.Step)] = turn.Observation
		}
	}
	all := fmt.Sprint(obs)
	assert.Contains(t, all, "send not scheduled: one send may spend at most 800.00 EUR", "the per-send limit holds")
	assert.Contains(t, all, "woken after 312h0m0s by campaign-results from mailer", "week-3's results ended the two-week wait a day early")
	assert.Contains(t, all, "recorded results week-1 of CMP-SPRING: 2 pieces of content, 150 conversions", "the agent hears what the store kept")
	assert.Contains(t, all, "slept 192h0m0s")

	content := storetest.Strings(t, records, `SELECT id || ' ' || channel || ' ' || variant || ' ' || approved_by FROM campaign_content WHERE campaign_id = 'CMP-SPRING' ORDER BY id`)
	assert.Equal(t, []string{"CMP-SPRING-V1 email gift-led marketing.lead", "CMP-SPRING-V2 social story-led marketing.lead",
		"CMP-SPRING-V3 email gift-led-2 marketing.lead"}, content, "the rejected variant was never published; its replacement was")
	assert.Equal(t, []string{"3"}, storetest.Strings(t, records, `SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'publish/%'`),
		"each publication is one outbox message")
	assert.Equal(t, []string{"2600"}, storetest.Strings(t, records, `SELECT sum(spend_minor) / 100 FROM campaign_sends WHERE campaign_id = 'CMP-SPRING'`))
	assert.Equal(t, []string{"week-1", "week-3", "week-5"}, storetest.Strings(t, records,
		`SELECT DISTINCT batch FROM campaign_results WHERE campaign_id = 'CMP-SPRING' ORDER BY batch`))
	facts, err := records.Recall(context.Background(), "cmp-spring", 5)
	require.NoError(t, err)
	require.Len(t, facts, 1)

	matches, err := filepath.Glob(filepath.Join(reports, "campaign-CMP-SPRING-*.json"))
	require.NoError(t, err)
	require.Len(t, matches, 1, "one report, as JSON")
	var rep activities.CampaignReport
	body, err := os.ReadFile(matches[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &rep))
	assert.Equal(t, int64(380), rep.Conversions, "120+30+70+160: the results the store kept")
	assert.False(t, rep.GoalReached, "380 of 400")
	assert.True(t, decimal.RequireFromString("2600").Equal(rep.Spent))
	assert.Equal(t, []string{"week-1", "week-3", "week-5"}, rep.ResultReports)
	md, err := os.ReadFile(strings.TrimSuffix(matches[0], ".json") + ".md")
	require.NoError(t, err)
	assert.Contains(t, string(md), "| CMP-SPRING-V1 | email | gift-led | marketing.lead | 2 | 24400 | 7500 | 1100 | 190 | 1100.00 EUR |")
	assert.Contains(t, string(md), "Lead with gifts; keep social for stories.")
}
