package activities

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store"
)

func TestSaveTicketIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	db, err := store.Open(ctx, path)
	require.NoError(t, err)
	defer db.Close()
	s := &Store{DB: db}

	rec := TicketRecord{IdempotencyKey: "ticket-1", WorkflowID: "ticket-1", RunID: "r1", Subject: "s", Customer: "c",
		Channel: "email", Category: "billing", Priority: "high", Sentiment: "negative", Language: "en", Summary: "x",
		Queue: "billing", SLAMinutes: 240, DraftReply: "hi", ClassifiedBy: "model", RoutedAt: time.Unix(0, 0)}
	require.NoError(t, s.SaveTicket(ctx, rec))
	rec.DraftReply = "a retried write"
	require.NoError(t, s.SaveTicket(ctx, rec), "a retried activity succeeds")

	var n int
	var reply string
	require.NoError(t, db.QueryRow(`SELECT count(*), max(draft_reply) FROM tickets`).Scan(&n, &reply))
	assert.Equal(t, 1, n)
	assert.Equal(t, "hi", reply, "the first write stands")

	// Reopening applies no migration twice.
	db2, err := store.Open(ctx, path)
	require.NoError(t, err)
	db2.Close()
}
