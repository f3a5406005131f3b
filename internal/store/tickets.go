package store

import (
	"context"
	"fmt"
	"time"
)

// TicketRecord is one routed ticket as stored.
type TicketRecord struct {
	IdempotencyKey string    `json:"idempotencyKey"`
	WorkflowID     string    `json:"workflowId"`
	RunID          string    `json:"runId"`
	Subject        string    `json:"subject"`
	Customer       string    `json:"customer"`
	Channel        string    `json:"channel"`
	Category       string    `json:"category"`
	Priority       string    `json:"priority"`
	Sentiment      string    `json:"sentiment"`
	Language       string    `json:"language"`
	Summary        string    `json:"summary"`
	Queue          string    `json:"queue"`
	SLAMinutes     int       `json:"slaMinutes"`
	DraftReply     string    `json:"draftReply"`
	ClassifiedBy   string    `json:"classifiedBy"`
	RoutedAt       time.Time `json:"routedAt"`
	ReviewedBy     string    `json:"reviewedBy,omitempty"` // who reviewed the draft, if anyone
	ReplySent      bool      `json:"replySent"`
}

// RoutedTicket is a routed ticket as stored and, when a reply goes out,
// the reply's outbox message.
type RoutedTicket struct {
	Ticket TicketRecord  `json:"ticket"`
	Reply  *Notification `json:"reply,omitempty"`
}

// SaveTicket stores a routed ticket and its reply's outbox message in one
// transaction, once per idempotency key: the reply is never sent for a
// ticket the store does not hold, nor the ticket kept with its reply lost.
func (s *Store) SaveTicket(ctx context.Context, rt RoutedTicket) error {
	return s.inTx(ctx, func(c conn) error {
		r := rt.Ticket
		_, err := c.exec(ctx, `INSERT INTO tickets (idempotency_key, workflow_id, run_id, subject, customer,
			channel, category, priority, sentiment, language, summary, queue, sla_minutes, draft_reply, classified_by, routed_at,
			reviewed_by, reply_sent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (idempotency_key) DO NOTHING`,
			r.IdempotencyKey, r.WorkflowID, r.RunID, r.Subject, r.Customer, r.Channel, r.Category, r.Priority,
			r.Sentiment, r.Language, r.Summary, r.Queue, r.SLAMinutes, r.DraftReply, r.ClassifiedBy,
			r.RoutedAt.UTC().Format(time.RFC3339Nano), r.ReviewedBy, flag(r.ReplySent))
		if err != nil {
			return fmt.Errorf("store ticket %s: %w", r.IdempotencyKey, err)
		}
		if rt.Reply == nil {
			return nil
		}
		return s.notify(ctx, c, *rt.Reply)
	})
}
