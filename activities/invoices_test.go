package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/store/storetest"
)

// seededStore opens a fresh business store with the sample data.
func seededStore(t testing.TB) *Store {
	return &Store{Records: storetest.Seeded(t)}
}

func TestInvoiceFacts(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	ctx := context.Background()

	facts, err := s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "whatever", VendorTaxID: "de 811234567", InvoiceNumber: "X-1", PONumber: "po-1001"})
	require.NoError(t, err)
	require.NotNil(t, facts.Vendor)
	assert.Equal(t, "V-ACME", facts.Vendor.ID, "found by tax id, ignoring case and spaces")
	assert.Equal(t, "taxId", facts.VendorMatchedBy)
	assert.Empty(t, facts.DuplicateBy)
	require.NotNil(t, facts.PurchaseOrder)
	assert.Equal(t, "250.00", facts.PurchaseOrder.Amount.StringFixed(2))

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Initech Hardware", InvoiceNumber: "INI-2024-0042"})
	require.NoError(t, err)
	assert.Equal(t, "V-INITECH", facts.Vendor.ID, "found by name")
	assert.Equal(t, "name", facts.VendorMatchedBy)
	assert.Equal(t, "number", facts.DuplicateBy)
	assert.Nil(t, facts.PurchaseOrder)

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Umbrella Logistics"})
	require.NoError(t, err)
	assert.False(t, facts.Vendor.Active)

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Stark Supplies", PONumber: "PO-9999"})
	require.NoError(t, err)
	assert.Nil(t, facts.Vendor)
	assert.Nil(t, facts.PurchaseOrder)
}

// TestDuplicatesAreFoundByDocumentAndByNumber: the same document posts once
// whatever a model reads in it, and an unknown vendor's number is still
// matched by tax id; an empty number never matches.
func TestDuplicatesAreFoundByDocumentAndByNumber(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	ctx := context.Background()
	_, err := s.PostInvoice(ctx, LedgerPosting{IdempotencyKey: "k1", Kind: "invoice", VendorID: "V-ACME", InvoiceNumber: "ACM-9",
		Amount: decimal.RequireFromString("10.00"), Currency: "EUR", ContentHash: "hash-1", ApprovedBy: "ap.clerk", WorkflowID: "w1"})
	require.NoError(t, err)

	facts, err := s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "garbled", InvoiceNumber: "other", ContentHash: "hash-1"})
	require.NoError(t, err)
	assert.Equal(t, "document", facts.DuplicateBy)
	assert.Equal(t, "w1", facts.PostedBy)

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Acme Office Supplies Ltd", VendorTaxID: "DE-811 234 567", InvoiceNumber: "ACM-9"})
	require.NoError(t, err)
	assert.Equal(t, "number", facts.DuplicateBy, "matched through the tax id")

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorName: "Acme Office Supplies", InvoiceNumber: ""})
	require.NoError(t, err)
	assert.Empty(t, facts.DuplicateBy, "an empty number matches nothing")

	facts, err = s.InvoiceFacts(ctx, InvoiceFactsRequest{VendorTaxID: "DE811234567", DocumentType: "credit_note", RefersTo: "ACM-9", InvoiceNumber: "CN-1"})
	require.NoError(t, err)
	require.NotNil(t, facts.CreditedInvoice)
	assert.Equal(t, "10.00", facts.CreditedInvoice.Amount.StringFixed(2))
	assert.Empty(t, facts.DuplicateBy, "a credit note's number is its own")
}

// TestTheLedgerKeepsExactMinorUnits: a JPY amount posts as yen, a KWD one
// as fils, and an amount finer than its currency is refused.
func TestTheLedgerKeepsExactMinorUnits(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	ctx := context.Background()
	for i, c := range []struct{ amount, currency string }{{"1500", "JPY"}, {"12.345", "KWD"}, {"-34.51", "EUR"}} {
		e, err := s.PostInvoice(ctx, LedgerPosting{IdempotencyKey: fmt.Sprint("m", i), Kind: "invoice", VendorID: "V-ACME",
			InvoiceNumber: fmt.Sprint("N-", i), Amount: decimal.RequireFromString(c.amount), Currency: c.currency, ApprovedBy: "x", WorkflowID: "w"})
		require.NoError(t, err)
		assert.True(t, decimal.RequireFromString(c.amount).Equal(e.Amount), "%s %s came back as %s", c.amount, c.currency, e.Amount)
	}
	assert.Equal(t, 1500, storetest.Int(t, s.Records, `SELECT amount_minor FROM ledger WHERE idempotency_key = 'm0'`))
	assert.Equal(t, 12345, storetest.Int(t, s.Records, `SELECT amount_minor FROM ledger WHERE idempotency_key = 'm1'`))
	_, err := s.PostInvoice(ctx, LedgerPosting{IdempotencyKey: "m9", Kind: "invoice", VendorID: "V-ACME", InvoiceNumber: "N-9",
		Amount: decimal.RequireFromString("10.005"), Currency: "EUR", ApprovedBy: "x", WorkflowID: "w"})
	assert.ErrorContains(t, err, "10.005 has more than the 2 minor digits of EUR")
}

func TestPostInvoiceExactlyOnce(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	ctx := context.Background()
	p := LedgerPosting{IdempotencyKey: "invoice-1", VendorID: "V-ACME", InvoiceNumber: "ACM-1", Amount: decimal.RequireFromString("245.14"),
		Currency: "EUR", ApprovedBy: "ap.clerk", WorkflowID: "invoice-1"}
	first, err := s.PostInvoice(ctx, p)
	require.NoError(t, err)
	again, err := s.PostInvoice(ctx, p)
	require.NoError(t, err, "a retried post succeeds")
	assert.Equal(t, first, again, "and returns the first entry")
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM ledger WHERE invoice_number = 'ACM-1'`))

	p.IdempotencyKey = "invoice-2"
	_, err = s.PostInvoice(ctx, p)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	assert.Equal(t, ErrDuplicateInvoice, appErr.Type())
	assert.Equal(t, "invoice ACM-1 of vendor V-ACME is already in the ledger", appErr.Message())
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM ledger WHERE invoice_number = 'ACM-1'`))
}
