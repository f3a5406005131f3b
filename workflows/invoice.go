package workflows

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/schema"
)

// InvoiceInput starts an invoice processing: the invoice's text, or the id
// of a document in the business store.
type InvoiceInput struct {
	Document   string        `json:"document,omitempty"`
	DocumentID string        `json:"documentId,omitempty"`
	Policy     InvoicePolicy `json:"policy,omitzero"`
	Model      ModelSettings `json:"model,omitzero"`
}

// InvoicePolicy is what the business decided before automating: when an
// invoice may post without a person, and who decides the rest.
type InvoicePolicy struct {
	AutoApproveBelow decimal.Decimal `json:"autoApproveBelow,omitzero"` // in the invoice's currency; default 1000
	POTolerance      decimal.Decimal `json:"poTolerance,omitzero"`      // fraction of the PO amount; default 0.02
	Decision         DecisionPolicy  `json:"decision,omitzero"`
}

// DefaultInvoicePolicy is the policy of runs whose input sets none.
var DefaultInvoicePolicy = InvoicePolicy{
	AutoApproveBelow: decimal.NewFromInt(1000),
	POTolerance:      decimal.RequireFromString("0.02"),
	Decision: DecisionPolicy{
		Approvers:     []string{"ap.clerk", "ap.lead"},
		EscalateTo:    []string{"finance.controller"},
		RemindEvery:   4 * time.Hour,
		EscalateAfter: 24 * time.Hour,
		Deadline:      72 * time.Hour,
		OnDeadline:    "reject",
	},
}

// Invoice is what the model extracts from an invoice document. Amounts are
// exact decimals.
type Invoice struct {
	DocumentType  string          `json:"documentType"` // invoice or credit_note
	RefersTo      string          `json:"refersTo"`     // a credit note: the number of the invoice it credits
	VendorName    string          `json:"vendorName"`
	VendorTaxID   string          `json:"vendorTaxId"`
	InvoiceNumber string          `json:"invoiceNumber"`
	IssueDate     string          `json:"issueDate"` // YYYY-MM-DD
	DueDate       string          `json:"dueDate"`   // YYYY-MM-DD
	Currency      string          `json:"currency"`
	Lines         []InvoiceLine   `json:"lines"`
	Subtotal      decimal.Decimal `json:"subtotal"`
	Tax           decimal.Decimal `json:"tax"`
	Total         decimal.Decimal `json:"total"`
	PONumber      string          `json:"poNumber"`
}

// InvoiceLine is one line item.
type InvoiceLine struct {
	Description string          `json:"description"`
	Quantity    decimal.Decimal `json:"quantity"`
	UnitPrice   decimal.Decimal `json:"unitPrice"`
	Amount      decimal.Decimal `json:"amount"`
}

// The document types invoice processing tells apart.
const (
	DocumentInvoice    = "invoice"
	DocumentCreditNote = "credit_note"
)

// InvoiceCurrencies are the currencies invoices may be in.
var InvoiceCurrencies = []string{"EUR", "USD", "GBP", "CHF", "SEK", "DKK", "PLN", "JPY"}

var invoiceSchema = schema.Object(
	schema.Prop("documentType", schema.Enum("invoice, or credit_note for a credit note that refunds an earlier invoice",
		DocumentInvoice, DocumentCreditNote)),
	schema.Prop("refersTo", schema.OptionalString("a credit note: the number of the invoice it credits; empty otherwise", 40)),
	schema.Prop("vendorName", schema.OptionalString("the vendor's legal name", 120)),
	schema.Prop("vendorTaxId", schema.OptionalString("the vendor's VAT or tax id", 40)),
	schema.Prop("invoiceNumber", schema.OptionalString("the invoice number", 40)),
	schema.Prop("issueDate", schema.OptionalString("issue date as YYYY-MM-DD", 10)),
	schema.Prop("dueDate", schema.OptionalString("due date as YYYY-MM-DD", 10)),
	schema.Prop("currency", schema.Enum("ISO 4217 currency code", InvoiceCurrencies...)),
	schema.Prop("lines", schema.Array("the line items", schema.Object(
		schema.Prop("description", schema.OptionalString("what was bought", 60)),
		schema.Prop("quantity", schema.Number("how many")),
		schema.Prop("unitPrice", schema.Number("price of one")),
		schema.Prop("amount", schema.Number("quantity times unit price")),
	), 10)),
	schema.Prop("subtotal", schema.Number("sum of the line amounts")),
	schema.Prop("tax", schema.Number("tax amount")),
	schema.Prop("total", schema.Number("amount due")),
	schema.Prop("poNumber", schema.OptionalString("purchase order number, empty if none", 40)),
)

// InvoiceResult is the outcome of an invoice processing.
type InvoiceResult struct {
	Invoice    *Invoice                `json:"invoice,omitempty"`
	Checks     []Check                 `json:"checks"`
	Approved   bool                    `json:"approved"`
	Decision   Decision                `json:"decision"` // By "policy" when no person was needed
	Ledger     *activities.LedgerEntry `json:"ledger,omitempty"`
	ModelCalls []activities.ModelCall  `json:"modelCalls"`
}

// ErrInvalidInvoice is the application error type of input that holds no invoice.
const ErrInvalidInvoice = "InvalidInvoice"

// InvoiceProcessing extracts an invoice with the model, validates it by
// fixed rules, lets the policy or a person decide, and posts it to the ledger
// exactly once.
func InvoiceProcessing(ctx workflow.Context, in InvoiceInput) (InvoiceResult, error) {
	ctx, d, err := beginRun(ctx, "invoice")
	if err != nil {
		return InvoiceResult{}, err
	}
	if err := in.Policy.Check(); err != nil {
		return InvoiceResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidInvoice, nil)
	}
	policy := in.Policy.withDefaults()
	var result InvoiceResult

	d.step(ctx, "reading", "Reading the invoice document")
	text, err := invoiceText(ctx, in)
	if err != nil {
		return result, err
	}
	if fits := fitsModel("the invoice", text, extractAnswerTokens, 0); fits != nil {
		readable := Check{Name: "readable", Hard: true, Detail: fits.Error()}
		result.Checks = []Check{readable}
		result.Decision = Decision{By: "policy", Reason: readable.Detail}
		d.step(ctx, "rejected", "Rejected: "+readable.Detail)
		return result, nil
	}
	if readable := readabilityCheck(text); !readable.Passed {
		result.Checks = []Check{readable}
		result.Decision = Decision{By: "policy", Reason: readable.Detail}
		d.step(ctx, "rejected", "Rejected: "+readable.Detail)
		return result, nil
	}

	model, err := resolveModel(ctx, in.Model)
	if err != nil {
		return result, err
	}
	d.step(ctx, "extracting", "Extracting the invoice fields with "+model.Model)
	inv, extraction, err := extractInvoice(ctx, model, text)
	if err != nil {
		return result, err
	}
	result.Checks = append(result.Checks, extraction.check)
	if extraction.call != nil {
		result.ModelCalls = append(result.ModelCalls, *extraction.call)
		usedModel(ctx, *extraction.call)
	}

	d.step(ctx, "validating", "Checking amounts, arithmetic, dates, vendor, duplicates and PO")
	var facts activities.InvoiceFacts
	if inv != nil {
		result.Invoice = inv
		var store *activities.Store
		req := activities.InvoiceFactsRequest{VendorName: inv.VendorName, VendorTaxID: inv.VendorTaxID, InvoiceNumber: inv.InvoiceNumber,
			PONumber: inv.PONumber, ContentHash: contentHash(text), DocumentType: inv.DocumentType, RefersTo: inv.RefersTo}
		if err := workflow.ExecuteActivity(withStore(ctx, "look up vendor, ledger and PO"), store.InvoiceFacts, req).Get(ctx, &facts); err != nil {
			return result, err
		}
		result.Checks = append(result.Checks, validateInvoice(*inv, facts, policy)...)
	}
	result.Checks = append(result.Checks, instructionsCheck(text))
	d.status.Checks = result.Checks

	hard, failed := firstFailures(result.Checks)
	switch {
	case hard != nil:
		result.Decision = Decision{By: "policy", Reason: hard.Detail}
	case failed == nil && inv.DocumentType == DocumentInvoice && inv.Total.LessThan(policy.AutoApproveBelow):
		result.Decision = Decision{Approve: true, By: "policy",
			Reason: fmt.Sprintf("every check passed and the total is below %s", money.Format(policy.AutoApproveBelow, inv.Currency))}
	default:
		result.Decision = d.ask(ctx, Question{Text: invoiceQuestion(inv, result.Checks), Checks: result.Checks}, policy.Decision)
	}
	result.Approved = result.Decision.Approve
	if !result.Approved {
		d.step(ctx, "rejected", "Rejected by "+result.Decision.By+": "+result.Decision.Reason)
		return result, nil
	}

	d.step(ctx, "posting", "Posting to the ledger")
	entry, err := postInvoice(ctx, inv, facts, result.Decision, contentHash(text))
	if isErrorType(err, activities.ErrDuplicateInvoice) {
		// Another run posted the same invoice after this one was validated.
		dup := Check{Name: "duplicate", Hard: true, Detail: rootMessage(err)}
		result.Checks = append(result.Checks, dup)
		result.Approved = false
		d.step(ctx, "rejected", "Rejected at posting: "+dup.Detail)
		return result, nil
	}
	if err != nil {
		return result, err
	}
	result.Ledger = &entry
	d.step(ctx, "posted", fmt.Sprintf("Posted %s, approved by %s", money.Format(entry.Amount, entry.Currency), entry.ApprovedBy))
	return result, nil
}

func (p InvoicePolicy) withDefaults() InvoicePolicy {
	def := DefaultInvoicePolicy
	if p.AutoApproveBelow.IsPositive() {
		def.AutoApproveBelow = p.AutoApproveBelow
	}
	if p.POTolerance.IsPositive() {
		def.POTolerance = p.POTolerance
	}
	for _, d := range []struct{ from, into *time.Duration }{
		{&p.Decision.RemindEvery, &def.Decision.RemindEvery},
		{&p.Decision.EscalateAfter, &def.Decision.EscalateAfter},
		{&p.Decision.Deadline, &def.Decision.Deadline},
	} {
		if *d.from > 0 {
			*d.into = *d.from
		}
	}
	return def
}

var errEmptyInvoice = errors.New("the invoice is empty; give its text as document, or a stored document's id as documentId")

func invoiceText(ctx workflow.Context, in InvoiceInput) (string, error) {
	switch {
	case strings.TrimSpace(in.Document) != "":
		return in.Document, nil
	case in.DocumentID != "":
		var store *activities.Store
		var text string
		err := workflow.ExecuteActivity(withStore(ctx, "load document "+in.DocumentID), store.LoadDocument, in.DocumentID).Get(ctx, &text)
		return text, err
	}
	return "", temporal.NewNonRetryableApplicationError(errEmptyInvoice.Error(), ErrInvalidInvoice, nil)
}

// extractAnswerTokens bounds the extraction's answer.
const extractAnswerTokens = 1024

type extractionOutcome struct {
	check Check
	call  *activities.ModelCall
}

// extractInvoice asks the model for the invoice's fields. An answer that
// never validates is a failed hard check, not an error: there is nothing a
// person could approve for posting.
func extractInvoice(ctx workflow.Context, model ModelSettings, text string) (*Invoice, extractionOutcome, error) {
	req := activities.ChatRequest{
		Purpose: "extract invoice",
		Model:   model.Model,
		Messages: []activities.Message{
			{Role: "system", Content: "You extract data from invoices. Answer with JSON only. Write dates as YYYY-MM-DD and amounts as plain numbers. " +
				"Use an empty string for anything the invoice does not state. Copy numbers exactly; do not correct them."},
			{Role: "user", Content: text},
		},
		Schema:  invoiceSchema,
		Options: activities.ModelOptions{MaxTokens: extractAnswerTokens},
	}
	var res activities.ChatResult
	err := workflow.ExecuteActivity(withModel(ctx, model, "extract invoice: vendor, number, dates, lines, totals, PO"),
		new(activities.Model).Chat, req).Get(ctx, &res)
	if isErrorType(err, activities.ErrModelInvalidAnswer) {
		return nil, extractionOutcome{check: Check{Name: "extraction", Hard: true,
			Detail: rootMessage(err) + "; nothing can be posted without the invoice's fields, so enter it by hand"}}, nil
	}
	if err != nil {
		return nil, extractionOutcome{}, err
	}
	inv, err := decodeAnswer[Invoice](res)
	if err != nil {
		return nil, extractionOutcome{}, err
	}
	return &inv, extractionOutcome{check: Check{Name: "extraction", Passed: true, Detail: "fields extracted by " + res.Call.Model}, call: &res.Call}, nil
}

// postInvoice posts an approved invoice, or a credit note as a negative
// amount against the invoice it credits, to the vendor found in the master.
func postInvoice(ctx workflow.Context, inv *Invoice, facts activities.InvoiceFacts, dec Decision, hash string) (activities.LedgerEntry, error) {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	posting := activities.LedgerPosting{
		IdempotencyKey: id, Kind: inv.DocumentType, VendorID: facts.Vendor.ID, InvoiceNumber: inv.InvoiceNumber,
		RefersTo: inv.RefersTo, Amount: ledgerAmount(*inv), Currency: inv.Currency, ContentHash: hash,
		ApprovedBy: dec.By, WorkflowID: id,
	}
	var store *activities.Store
	var entry activities.LedgerEntry
	err := workflow.ExecuteActivity(withStore(ctx, "post "+money.Format(posting.Amount, inv.Currency)+" to the ledger"),
		store.PostInvoice, posting).Get(ctx, &entry)
	return entry, err
}

// ledgerAmount is what a document posts: an invoice's total, and a credit
// note's credit as a negative amount, however the note writes it.
func ledgerAmount(inv Invoice) decimal.Decimal {
	if inv.DocumentType == DocumentCreditNote {
		return inv.Total.Abs().Neg()
	}
	return inv.Total
}

// invoiceQuestion asks a person about a document, naming every failed check
// so that they see what they would override.
func invoiceQuestion(inv *Invoice, checks []Check) string {
	what := "an invoice whose fields could not be extracted"
	switch {
	case inv == nil:
	case inv.DocumentType == DocumentCreditNote:
		what = fmt.Sprintf("credit note %s from %s, a credit of %s against invoice %s", inv.InvoiceNumber, inv.VendorName,
			money.Format(inv.Total.Abs(), inv.Currency), cmp.Or(inv.RefersTo, "(none named)"))
	default:
		what = fmt.Sprintf("invoice %s from %s for %s", inv.InvoiceNumber, inv.VendorName, money.Format(inv.Total, inv.Currency))
	}
	var failed []string
	for _, c := range checks {
		if !c.Passed {
			failed = append(failed, c.Name+": "+c.Detail)
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Sprintf("Approve %s? %d check(s) failed: %s", what, len(failed), strings.Join(failed, "; "))
	case inv != nil && inv.DocumentType == DocumentCreditNote:
		return fmt.Sprintf("Approve %s? Every check passed; credit notes always need a person", what)
	}
	return fmt.Sprintf("Approve %s? Every check passed; it is over the auto-approval amount", what)
}

// contentHash identifies a document by its text, whatever the model reads
// in it: SHA-256 of the text with runs of white space made one space.
func contentHash(text string) string {
	sum := sha256.Sum256([]byte(strings.Join(strings.Fields(text), " ")))
	return hex.EncodeToString(sum[:])
}

// firstFailures returns the first failed hard check and the first failed check.
func firstFailures(checks []Check) (hard, failed *Check) {
	for i := range checks {
		c := &checks[i]
		if c.Passed {
			continue
		}
		if failed == nil {
			failed = c
		}
		if c.Hard && hard == nil {
			hard = c
		}
	}
	return hard, failed
}
