package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/internal/money"
)

// InvoiceFactsRequest names what invoice validation needs from the store.
type InvoiceFactsRequest struct {
	VendorName    string `json:"vendorName"`
	VendorTaxID   string `json:"vendorTaxId"`
	InvoiceNumber string `json:"invoiceNumber"`
	PONumber      string `json:"poNumber"`
	ContentHash   string `json:"contentHash"`  // the document's text, hashed
	DocumentType  string `json:"documentType"` // invoice or credit_note
	RefersTo      string `json:"refersTo"`     // a credit note's invoice
}

// Vendor is a vendor master record.
type Vendor struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	TaxID  string `json:"taxId"`
	Active bool   `json:"active"`
}

// PurchaseOrder is a purchase order record.
type PurchaseOrder struct {
	Number   string          `json:"number"`
	VendorID string          `json:"vendorId"`
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
}

// InvoiceFacts is what the store knows about an invoice's vendor, number and PO.
type InvoiceFacts struct {
	Vendor          *Vendor        `json:"vendor,omitempty"`          // nil: unknown vendor
	VendorMatchedBy string         `json:"vendorMatchedBy,omitempty"` // taxId or name
	DuplicateBy     string         `json:"duplicateBy,omitempty"`     // document, number, or empty: not posted before
	PostedBy        string         `json:"postedBy,omitempty"`        // the earlier posting's run
	PurchaseOrder   *PurchaseOrder `json:"purchaseOrder,omitempty"`   // nil: no such PO
	CreditedInvoice *LedgerEntry   `json:"creditedInvoice,omitempty"` // a credit note's posted invoice
}

// normalTaxIDSQL is a vendor's tax id without case, spaces or dashes, as
// normalTaxID makes the one asked for.
const normalTaxIDSQL = `replace(replace(upper(tax_id), ' ', ''), '-', '')`

// InvoiceFacts looks up the vendor (by tax id, else by name), whether the
// same document or the same number from the same vendor (by id, tax id or
// name) was posted before, the PO, and the invoice a credit note credits.
func (s *Store) InvoiceFacts(ctx context.Context, req InvoiceFactsRequest) (InvoiceFacts, error) {
	var facts InvoiceFacts
	c := s.conn()
	taxID := normalTaxID(req.VendorTaxID)
	for _, by := range []struct{ name, where, arg string }{
		{"taxId", normalTaxIDSQL + ` = ?`, taxID},
		{"name", `lower(trim(name)) = lower(trim(?))`, req.VendorName},
	} {
		if strings.TrimSpace(by.arg) == "" {
			continue
		}
		var v Vendor
		var active int
		err := c.row(ctx, `SELECT id, name, tax_id, active FROM vendors WHERE `+by.where, by.arg).
			Scan(&v.ID, &v.Name, &v.TaxID, &active)
		if err == nil {
			v.Active = active != 0
			facts.Vendor, facts.VendorMatchedBy = &v, by.name
			break
		} else if !errors.Is(err, sql.ErrNoRows) {
			return facts, fmt.Errorf("look up vendor %q: %w", req.VendorName, err)
		}
	}

	kind := cmp.Or(req.DocumentType, "invoice")
	err := c.row(ctx, `SELECT workflow_id FROM ledger WHERE content_hash = ? AND content_hash != ''`, req.ContentHash).
		Scan(&facts.PostedBy)
	switch {
	case err == nil:
		facts.DuplicateBy = "document"
	case !errors.Is(err, sql.ErrNoRows):
		return facts, fmt.Errorf("look up the document in the ledger: %w", err)
	case strings.TrimSpace(req.InvoiceNumber) != "":
		vendorID := ""
		if facts.Vendor != nil {
			vendorID = facts.Vendor.ID
		}
		err = c.row(ctx, `SELECT l.workflow_id FROM ledger l LEFT JOIN vendors v ON v.id = l.vendor_id
			WHERE l.kind = ? AND l.invoice_number = ? AND (l.vendor_id = ?
			   OR (? != '' AND replace(replace(upper(v.tax_id), ' ', ''), '-', '') = ?)
			   OR (? != '' AND (lower(trim(v.name)) = lower(trim(?)) OR l.vendor_id = 'unknown:' || ?)))
			LIMIT 1`,
			kind, strings.TrimSpace(req.InvoiceNumber), vendorID, taxID, taxID, req.VendorName, req.VendorName, req.VendorName).
			Scan(&facts.PostedBy)
		switch {
		case err == nil:
			facts.DuplicateBy = "number"
		case !errors.Is(err, sql.ErrNoRows):
			return facts, fmt.Errorf("look up invoice %s in the ledger: %w", req.InvoiceNumber, err)
		}
	}

	if po := strings.TrimSpace(req.PONumber); po != "" {
		var p PurchaseOrder
		var minor int64
		err := c.row(ctx, `SELECT number, vendor_id, amount_minor, currency FROM purchase_orders WHERE upper(number) = upper(?)`, po).
			Scan(&p.Number, &p.VendorID, &minor, &p.Currency)
		switch {
		case err == nil:
			p.Amount = money.FromMinor(minor, p.Currency)
			facts.PurchaseOrder = &p
		case !errors.Is(err, sql.ErrNoRows):
			return facts, fmt.Errorf("look up purchase order %s: %w", po, err)
		}
	}
	if ref := strings.TrimSpace(req.RefersTo); kind == "credit_note" && ref != "" && facts.Vendor != nil {
		e, err := s.ledgerEntry(ctx, c, `kind = 'invoice' AND vendor_id = ? AND invoice_number = ?`, facts.Vendor.ID, ref)
		switch {
		case err == nil:
			facts.CreditedInvoice = &e
		case !errors.Is(err, sql.ErrNoRows):
			return facts, fmt.Errorf("look up invoice %s in the ledger: %w", ref, err)
		}
	}
	return facts, nil
}

// normalTaxID is a tax id without case, spaces or dashes.
func normalTaxID(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.ToUpper(strings.TrimSpace(s)))
}

// LedgerPosting posts one approved invoice, or a credit note as a negative
// amount.
type LedgerPosting struct {
	IdempotencyKey string          `json:"idempotencyKey"`
	Kind           string          `json:"kind"` // invoice or credit_note
	VendorID       string          `json:"vendorId"`
	InvoiceNumber  string          `json:"invoiceNumber"`
	RefersTo       string          `json:"refersTo,omitempty"` // a credit note's invoice
	Amount         decimal.Decimal `json:"amount"`
	Currency       string          `json:"currency"`
	ContentHash    string          `json:"contentHash"`
	ApprovedBy     string          `json:"approvedBy"`
	WorkflowID     string          `json:"workflowId"`
}

// LedgerEntry is a posted invoice as the ledger holds it.
type LedgerEntry struct {
	LedgerPosting
	PostedAt time.Time `json:"postedAt"`
	Sandbox  bool      `json:"sandbox,omitempty"` // simulated: the ledger is untouched
}

// InvalidError is a record the store cannot keep as given.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return e.Reason }

// PostInvoice posts an invoice to the ledger exactly once per idempotency
// key: a retried or repeated call returns the entry the first one wrote.
// The same document, or the same vendor's number, posts once whatever key
// it comes with: another key for it is ErrDuplicate.
func (s *Store) PostInvoice(ctx context.Context, p LedgerPosting) (LedgerEntry, error) {
	minor, err := money.ToMinor(p.Amount, p.Currency)
	if err != nil {
		return LedgerEntry{}, &InvalidError{Reason: "the ledger takes exact amounts: " + err.Error()}
	}
	c := s.conn()
	_, err = c.exec(ctx, `INSERT INTO ledger (idempotency_key, kind, vendor_id, invoice_number, refers_to, amount_minor, currency,
		content_hash, approved_by, workflow_id, posted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		p.IdempotencyKey, cmp.Or(p.Kind, "invoice"), p.VendorID, p.InvoiceNumber, p.RefersTo, minor, p.Currency, p.ContentHash,
		p.ApprovedBy, p.WorkflowID, s.Clock().Format(time.RFC3339Nano))
	if uniqueViolation(err) {
		return LedgerEntry{}, fmt.Errorf("invoice %s of vendor %s is already in the ledger: %w", p.InvoiceNumber, p.VendorID, ErrDuplicate)
	} else if err != nil {
		return LedgerEntry{}, fmt.Errorf("post invoice %s to the ledger: %w", p.IdempotencyKey, err)
	}
	e, err := s.ledgerEntry(ctx, c, `idempotency_key = ?`, p.IdempotencyKey)
	if err != nil {
		return e, fmt.Errorf("read back ledger entry %s: %w", p.IdempotencyKey, err)
	}
	return e, nil
}

// ledgerEntry reads the one ledger entry where holds.
func (s *Store) ledgerEntry(ctx context.Context, c conn, where string, args ...any) (LedgerEntry, error) {
	var e LedgerEntry
	var postedAt string
	var minor int64
	err := c.row(ctx, `SELECT idempotency_key, kind, vendor_id, invoice_number, refers_to, amount_minor, currency,
		content_hash, approved_by, workflow_id, posted_at FROM ledger WHERE `+where, args...).
		Scan(&e.IdempotencyKey, &e.Kind, &e.VendorID, &e.InvoiceNumber, &e.RefersTo, &minor, &e.Currency,
			&e.ContentHash, &e.ApprovedBy, &e.WorkflowID, &postedAt)
	if err != nil {
		return e, err
	}
	e.Amount = money.FromMinor(minor, e.Currency)
	e.PostedAt, _ = time.Parse(time.RFC3339Nano, postedAt)
	return e, nil
}
