package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/runs"
)

// Store is the business store's activities: they read and write records
// through the store, turn its errors into ones a workflow acts on, and
// record instead of perform the side effects of a sandboxed run.
type Store struct {
	Records *store.Store
}

// The business records that cross workflow history.
type (
	Notification        = store.Notification
	TicketRecord        = store.TicketRecord
	RoutedTicket        = store.RoutedTicket
	InvoiceFactsRequest = store.InvoiceFactsRequest
	InvoiceFacts        = store.InvoiceFacts
	Vendor              = store.Vendor
	PurchaseOrder       = store.PurchaseOrder
	LedgerPosting       = store.LedgerPosting
	LedgerEntry         = store.LedgerEntry
	Employee            = store.Employee
	LeaveFactsRequest   = store.LeaveFactsRequest
	LeaveFacts          = store.LeaveFacts
	Blackout            = store.Blackout
	TeamLeave           = store.TeamLeave
	Expense             = store.Expense
	Access              = store.Access
	ComplianceRecords   = store.ComplianceRecords
	Period              = store.Period
)

// What runs record of model calls and agent turns, as package runs
// defines it.
type (
	ModelCall = runs.ModelCall
	Turn      = runs.Turn
)

// ErrNotFound is the application error type of a business record that does
// not exist; workflows turn it into a sentence for the person who asked.
const ErrNotFound = "NotFound"

// Notify writes a notification to the outbox once per idempotency key; a
// sandboxed run records it instead.
func (s *Store) Notify(ctx context.Context, n Notification) error {
	if sim, err := s.simulated(ctx, "notification", n.IdempotencyKey, n.WorkflowID, n); sim {
		return err
	}
	return s.Records.Notify(ctx, n)
}

// SaveDocument stores a document under id (once) so that workflows can carry
// the reference instead of the text.
func (s *Store) SaveDocument(ctx context.Context, id, kind, content string) error {
	return s.Records.SaveDocument(ctx, id, kind, content)
}

// LoadDocument returns the text of a stored document.
func (s *Store) LoadDocument(ctx context.Context, id string) (string, error) {
	content, err := s.Records.LoadDocument(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", recordNotFound("there is no document %s in the business store", id)
	}
	return content, err
}

// SaveTicket stores a routed ticket and its reply's outbox message in one
// transaction, once per idempotency key; a sandboxed run keeps the ticket
// and records the reply instead of sending it.
func (s *Store) SaveTicket(ctx context.Context, rt RoutedTicket) error {
	if rt.Reply != nil {
		if sim, err := s.simulated(ctx, "notification", rt.Reply.IdempotencyKey, rt.Reply.WorkflowID, *rt.Reply); sim {
			if err != nil {
				return err
			}
			rt.Reply = nil
		}
	}
	return s.Records.SaveTicket(ctx, rt)
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
	return true, s.Records.RecordSandboxEffect(ctx, kind, key, workflowID, body)
}
