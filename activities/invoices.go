package activities

import (
	"context"
	"errors"

	"github.com/tandemhq/tandem/internal/store"
)

// InvoiceFacts looks up the vendor (by tax id, else by name), whether the
// same document or the same number from the same vendor (by id, tax id or
// name) was posted before, the PO, and the invoice a credit note credits.
func (s *Store) InvoiceFacts(ctx context.Context, req InvoiceFactsRequest) (InvoiceFacts, error) {
	return s.Records.InvoiceFacts(ctx, req)
}

// ErrDuplicateInvoice is the application error type of a posting whose vendor
// and invoice number are already in the ledger under another key.
const ErrDuplicateInvoice = "DuplicateInvoice"

// PostInvoice posts an invoice to the ledger exactly once per idempotency
// key: a retried or repeated call returns the entry the first one wrote.
// The same document, or the same vendor's number, posts once whatever key
// it comes with.
func (s *Store) PostInvoice(ctx context.Context, p LedgerPosting) (LedgerEntry, error) {
	if sim, err := s.simulated(ctx, "ledger", p.IdempotencyKey, p.WorkflowID, p); sim {
		return LedgerEntry{LedgerPosting: p, PostedAt: s.Records.Clock(), Sandbox: true}, err
	}
	e, err := s.Records.PostInvoice(ctx, p)
	var invalid *store.InvalidError
	switch {
	case errors.As(err, &invalid):
		return e, nonRetryable(ErrToolInput, "%s", invalid.Reason)
	case errors.Is(err, store.ErrDuplicate):
		return e, nonRetryable(ErrDuplicateInvoice, "invoice %s of vendor %s is already in the ledger", p.InvoiceNumber, p.VendorID)
	}
	return e, err
}
