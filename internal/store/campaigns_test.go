package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/store/storetest"
)

// TestCampaignSendsStayWithinTheBudgetUnderConcurrentRuns schedules sends
// of one campaign from several connections at once: together they never
// spend more than the budget, a repeated key schedules once, and sends the
// campaign cannot make are refused in a sentence. Under
// TANDEM_TEST_STORE=postgres it runs on PostgreSQL.
func TestCampaignSendsStayWithinTheBudgetUnderConcurrentRuns(t *testing.T) {
	ctx := context.Background()
	first := storetest.Seeded(t)
	content, err := first.PublishContent(ctx, store.Content{PublishKey: "run-1/3", CampaignID: "CMP-SPRING", Channel: "email", Variant: "gift-led",
		Subject: "Quiet, anywhere", Body: "Headphones.", ApprovedBy: "marketing.lead"},
		store.Notification{IdempotencyKey: "publish/run-1/3", Recipients: []string{"email:CMP-SPRING"}, Subject: "Quiet, anywhere", WorkflowID: "run-1"})
	require.NoError(t, err)
	assert.Equal(t, "CMP-SPRING-V1", content.ID)
	again, err := first.PublishContent(ctx, store.Content{PublishKey: "run-1/3", CampaignID: "CMP-SPRING", Channel: "email"},
		store.Notification{IdempotencyKey: "publish/run-1/3"})
	require.NoError(t, err)
	assert.Equal(t, content.ID, again.ID, "a retried publication publishes once")
	assert.Equal(t, 1, storetest.Int(t, first, `SELECT count(*) FROM outbox WHERE idempotency_key = 'publish/run-1/3'`))

	day := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	send := func(s *store.Store, key, spend string) store.SendOutcome {
		out, err := s.ScheduleSend(ctx, store.Send{Key: key, CampaignID: "CMP-SPRING", ContentID: content.ID, AudienceID: "AUD-NEWS", SendOn: day,
			Spend: decimal.RequireFromString(spend)})
		require.NoError(t, err)
		return out
	}
	stores := []*store.Store{first}
	for range 3 {
		stores = append(stores, storetest.Open(t, storetest.SettingOf(t, first)))
	}
	var wg sync.WaitGroup
	for i := range 8 { // 8 × 700.00 asked of a 3000.00 budget
		wg.Go(func() { send(stores[i%len(stores)], fmt.Sprintf("run-%d/5", i), "700.00") })
	}
	wg.Wait()
	assert.Equal(t, 4, storetest.Int(t, first, `SELECT count(*) FROM campaign_sends WHERE campaign_id = 'CMP-SPRING'`), "four fit the budget")
	assert.Equal(t, 2800_00, storetest.Int(t, first, `SELECT sum(spend_minor) FROM campaign_sends WHERE campaign_id = 'CMP-SPRING'`))

	assert.Equal(t, "campaign CMP-SPRING has 200.00 EUR of its budget left", send(first, "run-9/1", "300.00").Refused)
	scheduled := storetest.String(t, first, `SELECT min(send_key) FROM campaign_sends WHERE campaign_id = 'CMP-SPRING'`)
	assert.True(t, send(first, scheduled, "700.00").Already, "a repeated key is the send already scheduled")
	assert.Equal(t, "one send may spend at most 800.00 EUR", send(first, "run-9/2", "800.01").Refused)
	assert.Equal(t, "0.001 has more than the 2 minor digits of EUR", send(first, "run-9/3", "0.001").Refused)
	out, err := first.ScheduleSend(ctx, store.Send{Key: "run-9/4", CampaignID: "CMP-SPRING", ContentID: "CMP-WINTER-V1", AudienceID: "AUD-NEWS",
		SendOn: day, Spend: decimal.NewFromInt(10)})
	require.NoError(t, err)
	assert.Equal(t, `campaign CMP-SPRING has no published content "CMP-WINTER-V1"; publish it first`, out.Refused)
	out, err = first.ScheduleSend(ctx, store.Send{Key: "run-9/5", CampaignID: "CMP-SPRING", ContentID: content.ID, AudienceID: "AUD-NEWS",
		SendOn: "2020-01-01", Spend: decimal.NewFromInt(10)})
	require.NoError(t, err)
	assert.Contains(t, out.Refused, `not "2020-01-01"`)
	_, err = first.ScheduleSend(ctx, store.Send{Key: "run-9/6", CampaignID: "CMP-NONE"})
	assert.ErrorIs(t, err, store.ErrNotFound)

	results := store.CampaignResults{CampaignID: "CMP-SPRING", Batch: "week-1", ReportedBy: "mailer",
		Lines: []store.ResultLine{{ContentID: content.ID, Sent: 100, Opens: 40, Clicks: 9, Conversions: 2, Spend: decimal.RequireFromString("50.00")}}}
	recorded, err := first.RecordCampaignResults(ctx, results)
	require.NoError(t, err)
	assert.True(t, recorded)
	recorded, err = first.RecordCampaignResults(ctx, results)
	require.NoError(t, err)
	assert.False(t, recorded, "a report is kept once")
	results.Batch, results.Lines[0].ContentID = "week-2", "CMP-WINTER-V1"
	_, err = first.RecordCampaignResults(ctx, results)
	assert.ErrorIs(t, err, store.ErrNotFound, "another campaign's content")
	assert.Equal(t, 0, storetest.Int(t, first, `SELECT count(*) FROM campaign_results WHERE batch = 'week-2'`), "nothing half-written")

	review, err := first.ReviewCampaign(ctx, "CMP-SPRING")
	require.NoError(t, err)
	assert.Equal(t, "200", review.Left().String())
	assert.Equal(t, int64(2), review.Results.Conversions)
	assert.Equal(t, []string{"week-1"}, review.Batches)
	require.Len(t, review.Content, 1)
	assert.Equal(t, 4, review.Content[0].Sends)

	past, err := first.PastCampaigns(ctx, time.Now().UTC().Format(time.DateOnly), 5)
	require.NoError(t, err)
	require.Len(t, past, 2)
	assert.Equal(t, "CMP-WINTER", past[0].ID, "the latest first")
	assert.Equal(t, int64(313), past[0].Results.Conversions)
}
