package activities

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/store"
)

// seededStore opens a fresh business store with the sample data.
func seededStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "tandem.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, store.Seed(ctx, db, "../testdata/seed.sql"))
	require.NoError(t, store.Seed(ctx, db, "../testdata/seed.sql"), "seeding twice changes nothing")
	return &Store{DB: db}
}

func TestInvoiceFacts(t *testing.T) {
	s := seededStore(t)
	ctx := context.Background()

	facts, err := s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "whatever", VendorTaxID: "de 811234567", InvoiceNumber: "X-1", PONumber: "po-1001"})
	require.NoError(t, err)
	require.NotNil(t, facts.Vendor)
	assert.Equal(t, "V-ACME", facts.Vendor.ID, "found by tax id, ignoring case and spaces")
	assert.False(t, facts.AlreadyPosted)
	require.NotNil(t, facts.PurchaseOrder)
	assert.Equal(t, 250.0, facts.PurchaseOrder.Amount)

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Initech Hardware", InvoiceNumber: "INI-2024-0042"})
	require.NoError(t, err)
	assert.Equal(t, "V-INITECH", facts.Vendor.ID, "found by name")
	assert.True(t, facts.AlreadyPosted)
	assert.Nil(t, facts.PurchaseOrder)

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Umbrella Logistics"})
	require.NoError(t, err)
	assert.False(t, facts.Vendor.Active)

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Stark Supplies", PONumber: "PO-9999"})
	require.NoError(t, err)
	assert.Nil(t, facts.Vendor)
	assert.Nil(t, facts.PurchaseOrder)
}

func TestPostInvoiceExactlyOnce(t *testing.T) {
	s := seededStore(t)
	ctx := context.Background()
	p := LedgerPosting{IdempotencyKey: "invoice-1", VendorID: "V-ACME", InvoiceNumber: "ACM-1", Amount: 245.14,
		Currency: "EUR", ApprovedBy: "ap.clerk", WorkflowID: "invoice-1"}
	first, err := s.PostInvoice(ctx, p)
	require.NoError(t, err)
	again, err := s.PostInvoice(ctx, p)
	require.NoError(t, err, "a retried post succeeds")
	assert.Equal(t, first, again, "and returns the first entry")
	assert.Equal(t, 1, count(t, s.DB, `SELECT count(*) FROM ledger WHERE invoice_number = 'ACM-1'`))

	p.IdempotencyKey = "invoice-2"
	_, err = s.PostInvoice(ctx, p)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	assert.Equal(t, ErrDuplicateInvoice, appErr.Type())
	assert.Equal(t, "invoice ACM-1 of vendor V-ACME is already in the ledger", appErr.Message())
	assert.Equal(t, 1, count(t, s.DB, `SELECT count(*) FROM ledger WHERE invoice_number = 'ACM-1'`))
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(query, args...).Scan(&n))
	return n
}
