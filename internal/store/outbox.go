package store

import (
	"context"
	"fmt"
	"strings"
)

// Notification is one message to people, written to the outbox.
type Notification struct {
	IdempotencyKey string   `json:"idempotencyKey"`
	Recipients     []string `json:"recipients"`
	Subject        string   `json:"subject"`
	Body           string   `json:"body"`
	WorkflowID     string   `json:"workflowId"`
}

// Notify writes a notification to the outbox once per idempotency key.
func (s *Store) Notify(ctx context.Context, n Notification) error {
	return s.notify(ctx, s.conn(), n)
}

func (s *Store) notify(ctx context.Context, c conn, n Notification) error {
	_, err := c.exec(ctx, `INSERT INTO outbox (idempotency_key, recipients, subject, body, workflow_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		n.IdempotencyKey, strings.Join(n.Recipients, ","), n.Subject, n.Body, n.WorkflowID, s.stamp())
	if err != nil {
		return fmt.Errorf("write notification %s to the outbox: %w", n.IdempotencyKey, err)
	}
	return nil
}
