package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/store/storetest"
)

func routedTicket(key string) RoutedTicket {
	return RoutedTicket{
		Ticket: TicketRecord{IdempotencyKey: key, WorkflowID: key, RunID: "r1", Subject: "s", Customer: "c",
			Channel: "email", Category: "billing", Priority: "high", Sentiment: "negative", Language: "en", Summary: "x",
			Queue: "billing", SLAMinutes: 240, DraftReply: "hi", ClassifiedBy: "model", RoutedAt: time.Unix(0, 0), ReplySent: true},
		Reply: &Notification{IdempotencyKey: key + "/reply", Recipients: []string{"c@example.com"}, Subject: "Re: s", Body: "hi", WorkflowID: key},
	}
}

func TestSaveTicketIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setting := storetest.Setting(t)
	s := &Store{Records: storetest.Open(t, setting)}

	rt := routedTicket("ticket-1")
	require.NoError(t, s.SaveTicket(ctx, rt))
	rt.Ticket.DraftReply, rt.Reply.Body = "a retried write", "a retried write"
	require.NoError(t, s.SaveTicket(ctx, rt), "a retried activity succeeds")

	var n int
	var reply string
	storetest.Scan(t, setting, `SELECT count(*), max(draft_reply) FROM tickets`, nil, &n, &reply)
	assert.Equal(t, 1, n)
	assert.Equal(t, "hi", reply, "the first write stands")
	assert.Equal(t, []string{"hi"}, storetest.Strings(t, setting, `SELECT body FROM outbox WHERE workflow_id = 'ticket-1'`), "one reply, the first")

	// Reopening applies no migration twice.
	storetest.Open(t, setting)
}

// TestSaveTicketKeepsTheTicketAndItsReplyTogether fails the reply's outbox
// write: the ticket is not kept either, and the retry keeps both.
func TestSaveTicketKeepsTheTicketAndItsReplyTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setting := storetest.Setting(t)
	s := &Store{Records: storetest.Open(t, setting)}

	storetest.Exec(t, setting, `ALTER TABLE outbox RENAME TO outbox_away`)
	require.Error(t, s.SaveTicket(ctx, routedTicket("ticket-2")))
	assert.Zero(t, storetest.Int(t, setting, `SELECT count(*) FROM tickets`), "no ticket without its reply")

	storetest.Exec(t, setting, `ALTER TABLE outbox_away RENAME TO outbox`)
	require.NoError(t, s.SaveTicket(ctx, routedTicket("ticket-2")))
	assert.Equal(t, 1, storetest.Int(t, setting, `SELECT count(*) FROM tickets`))
	assert.Equal(t, 1, storetest.Int(t, setting, `SELECT count(*) FROM outbox WHERE idempotency_key = 'ticket-2/reply'`))
}

// TestASandboxedTicketKeepsItsRecordAndRecordsItsReply: the routed ticket
// is kept, the reply is a sandbox effect and never reaches the outbox.
func TestASandboxedTicketKeepsItsRecordAndRecordsItsReply(t *testing.T) {
	t.Parallel()
	ctx := sandbox.With(context.Background(), true)
	setting := storetest.Setting(t)
	s := &Store{Records: storetest.Open(t, setting)}

	require.NoError(t, s.SaveTicket(ctx, routedTicket("ticket-3")))
	assert.Equal(t, 1, storetest.Int(t, setting, `SELECT count(*) FROM tickets`))
	assert.Zero(t, storetest.Int(t, setting, `SELECT count(*) FROM outbox`))
	assert.Equal(t, 1, storetest.Int(t, setting, `SELECT count(*) FROM sandbox_effects WHERE idempotency_key = 'notification:ticket-3/reply'`))
}
