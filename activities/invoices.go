package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// InvoiceFactsRequest names what invoice validation needs from the store.
type InvoiceFactsRequest struct {
	VendorName    string `json:"vendorName"`
	VendorTaxID   string `json:"vendorTaxId"`
	InvoiceNumber string `json:"invoiceNumber"`
	PONumber      string `json:"poNumber"`
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
	Number   string  `json:"number"`
	VendorID string  `json:"vendorId"`
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

// InvoiceFacts is what the store knows about an invoice's vendor, number and PO.
type InvoiceFacts struct {
	Vendor        *Vendor        `json:"vendor,omitempty"`        // nil: unknown vendor
	AlreadyPosted bool           `json:"alreadyPosted"`           // same vendor and number in the ledger
	PostedBy      string         `json:"postedBy,omitempty"`      // the earlier posting's run
	PurchaseOrder *PurchaseOrder `json:"purchaseOrder,omitempty"` // nil: no such PO
}

// InvoiceFacts looks up the vendor (by tax id, else by name), whether the
// invoice number was already posted for that vendor, and the PO.
func (s *Store) InvoiceFacts(ctx context.Context, req InvoiceFactsRequest) (InvoiceFacts, error) {
	var facts InvoiceFacts
	var v Vendor
	err := s.DB.QueryRowContext(ctx, `SELECT id, name, tax_id, active FROM vendors
		WHERE (? != '' AND replace(upper(tax_id), ' ', '') = replace(upper(?), ' ', ''))
		   OR lower(name) = lower(?)
		ORDER BY (replace(upper(tax_id), ' ', '') = replace(upper(?), ' ', '')) DESC LIMIT 1`,
		req.VendorTaxID, req.VendorTaxID, strings.TrimSpace(req.VendorName), req.VendorTaxID).
		Scan(&v.ID, &v.Name, &v.TaxID, &v.Active)
	switch {
	case err == nil:
		facts.Vendor = &v
	case !errors.Is(err, sql.ErrNoRows):
		return facts, fmt.Errorf("look up vendor %q: %w", req.VendorName, err)
	}
	if facts.Vendor != nil && req.InvoiceNumber != "" {
		err := s.DB.QueryRowContext(ctx, `SELECT workflow_id FROM ledger WHERE vendor_id = ? AND invoice_number = ?`,
			facts.Vendor.ID, strings.TrimSpace(req.InvoiceNumber)).Scan(&facts.PostedBy)
		switch {
		case err == nil:
			facts.AlreadyPosted = true
		case !errors.Is(err, sql.ErrNoRows):
			return facts, fmt.Errorf("look up invoice %s in the ledger: %w", req.InvoiceNumber, err)
		}
	}
	if po := strings.TrimSpace(req.PONumber); po != "" {
		var p PurchaseOrder
		err := s.DB.QueryRowContext(ctx, `SELECT number, vendor_id, amount, currency FROM purchase_orders WHERE upper(number) = upper(?)`, po).
			Scan(&p.Number, &p.VendorID, &p.Amount, &p.Currency)
		switch {
		case err == nil:
			facts.PurchaseOrder = &p
		case !errors.Is(err, sql.ErrNoRows):
			return facts, fmt.Errorf("look up purchase order %s: %w", po, err)
		}
	}
	return facts, nil
}

// LedgerPosting posts one approved invoice.
type LedgerPosting struct {
	IdempotencyKey string  `json:"idempotencyKey"`
	VendorID       string  `json:"vendorId"`
	InvoiceNumber  string  `json:"invoiceNumber"`
	Amount         float64 `json:"amount"`
	Currency       string  `json:"currency"`
	ApprovedBy     string  `json:"approvedBy"`
	WorkflowID     string  `json:"workflowId"`
}

// LedgerEntry is a posted invoice as the ledger holds it.
type LedgerEntry struct {
	LedgerPosting
	PostedAt time.Time `json:"postedAt"`
	Sandbox  bool      `json:"sandbox,omitempty"` // simulated: the ledger is untouched
}

// PostInvoice posts an invoice to the ledger exactly once per idempotency
// key: a retried or repeated call returns the entry the first one wrote.
func (s *Store) PostInvoice(ctx context.Context, p LedgerPosting) (LedgerEntry, error) {
	if sim, err := s.simulated(ctx, "ledger", p.IdempotencyKey, p.WorkflowID, p); sim {
		return LedgerEntry{LedgerPosting: p, PostedAt: s.now(), Sandbox: true}, err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ledger (idempotency_key, vendor_id, invoice_number, amount, currency, approved_by, workflow_id, posted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
			p.IdempotencyKey, p.VendorID, p.InvoiceNumber, p.Amount, p.Currency, p.ApprovedBy, p.WorkflowID,
			s.now().Format(time.RFC3339Nano))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return duplicateInvoice(p)
		}
		return err
	})
	if err != nil {
		return LedgerEntry{}, err
	}
	var e LedgerEntry
	var postedAt string
	err = s.DB.QueryRowContext(ctx, `SELECT idempotency_key, vendor_id, invoice_number, amount, currency, approved_by, workflow_id, posted_at
		FROM ledger WHERE idempotency_key = ?`, p.IdempotencyKey).
		Scan(&e.IdempotencyKey, &e.VendorID, &e.InvoiceNumber, &e.Amount, &e.Currency, &e.ApprovedBy, &e.WorkflowID, &postedAt)
	if err != nil {
		return e, fmt.Errorf("read back ledger entry %s: %w", p.IdempotencyKey, err)
	}
	e.PostedAt, _ = time.Parse(time.RFC3339Nano, postedAt)
	return e, nil
}

// ErrDuplicateInvoice is the application error type of a posting whose vendor
// and invoice number are already in the ledger under another key.
const ErrDuplicateInvoice = "DuplicateInvoice"

func duplicateInvoice(p LedgerPosting) error {
	return nonRetryable(ErrDuplicateInvoice, "invoice %s of vendor %s is already in the ledger", p.InvoiceNumber, p.VendorID)
}
