package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/sandbox"
)

// Store is the business store's activities. Every write carries an
// idempotency key, so a retried activity never writes twice.
type Store struct {
	DB *sql.DB
	// Now is the store's clock for timestamps it writes; time.Now when nil.
	Now func() time.Time
}

// ErrNotFound is the application error type of a business record that does
// not exist; workflows turn it into a sentence for the person who asked.
const ErrNotFound = "NotFound"

// Notification is one message to people, written to the outbox.
type Notification struct {
	IdempotencyKey string   `json:"idempotencyKey"`
	Recipients     []string `json:"recipients"`
	Subject        string   `json:"subject"`
	Body           string   `json:"body"`
	WorkflowID     string   `json:"workflowId"`
}

// Notify writes a notification to the outbox once per idempotency key; a
// sandboxed run records it instead.
func (s *Store) Notify(ctx context.Context, n Notification) error {
	if sim, err := s.simulated(ctx, "notification", n.IdempotencyKey, n.WorkflowID, n); sim {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return insertNotification(ctx, tx, n) })
}

func insertNotification(ctx context.Context, tx *sql.Tx, n Notification) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (idempotency_key, recipients, subject, body, workflow_id)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		n.IdempotencyKey, strings.Join(n.Recipients, ","), n.Subject, n.Body, n.WorkflowID)
	if err != nil {
		return fmt.Errorf("write notification %s to the outbox: %w", n.IdempotencyKey, err)
	}
	return nil
}

// SaveDocument stores a document under id (once) so that workflows can carry
// the reference instead of the text.
func (s *Store) SaveDocument(ctx context.Context, id, kind, content string) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO documents (id, kind, content) VALUES (?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, id, kind, content)
	if err != nil {
		return fmt.Errorf("store document %s: %w", id, err)
	}
	return nil
}

// LoadDocument returns the text of a stored document.
func (s *Store) LoadDocument(ctx context.Context, id string) (string, error) {
	var content string
	err := s.DB.QueryRowContext(ctx, `SELECT content FROM documents WHERE id = ?`, id).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return "", recordNotFound("there is no document %s in the business store", id)
	}
	if err != nil {
		return "", fmt.Errorf("load document %s: %w", id, err)
	}
	return content, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// inTx runs fn in one transaction: all of its writes land, or none.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin a business-store transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit a business-store transaction: %w", err)
	}
	return nil
}

func recordNotFound(format string, args ...any) error {
	return nonRetryable(ErrNotFound, format, args...)
}

func nonRetryable(typ, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), typ, nil)
}

// simulated reports whether the run is sandboxed; if so it records the side
// effect it stands for, once per key, instead of performing it.
func (s *Store) simulated(ctx context.Context, kind, key, workflowID string, effect any) (bool, error) {
	if !sandbox.On(ctx) {
		return false, nil
	}
	body, err := json.Marshal(effect)
	if err != nil {
		return true, err
	}
	_, err = s.DB.ExecContext(ctx, `INSERT INTO sandbox_effects (idempotency_key, kind, effect, workflow_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING`, kind+":"+key, kind, string(body), workflowID)
	if err != nil {
		return true, fmt.Errorf("record the sandboxed %s %s: %w", kind, key, err)
	}
	return true, nil
}
