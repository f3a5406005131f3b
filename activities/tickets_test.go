package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store/storetest"
)

func TestSaveTicketIsIdempotent(t *testing.T) {
	ctx := context.Background()
	setting := storetest.Setting(t)
	s := &Store{Records: storetest.Open(t, setting)}

	rec := TicketRecord{IdempotencyKey: "ticket-1", WorkflowID: "ticket-1", RunID: "r1", Subject: "s", Customer: "c",
		Channel: "email", Category: "billing", Priority: "high", Sentiment: "negative", Language: "en", Summary: "x",
		Queue: "billing", SLAMinutes: 240, DraftReply: "hi", ClassifiedBy: "model", RoutedAt: time.Unix(0, 0)}
	require.NoError(t, s.SaveTicket(ctx, rec))
	rec.DraftReply = "a retried write"
	require.NoError(t, s.SaveTicket(ctx, rec), "a retried activity succeeds")

	var n int
	var reply string
	storetest.Scan(t, setting, `SELECT count(*), max(draft_reply) FROM tickets`, nil, &n, &reply)
	assert.Equal(t, 1, n)
	assert.Equal(t, "hi", reply, "the first write stands")

	// Reopening applies no migration twice.
	storetest.Open(t, setting)
}
