package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/money"
)

// The fixed validation rules of invoice processing. Each returns a Check
// that says what it found; none calls the model or the store.

// invoiceWords are words at least one of which every invoice carries.
var invoiceWords = []string{"invoice", "rechnung", "facture", "factura", "fattura", "faktura", "bill", "total", "amount due"}

// readabilityCheck refuses documents that are empty, binary, or plainly
// not invoices, before any model sees them.
func readabilityCheck(text string) Check {
	c := Check{Name: "readable", Hard: true}
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		c.Detail = "the document is empty"
		return c
	}
	var printable, total int
	for _, r := range trimmed {
		total++
		if r != unicode.ReplacementChar && (unicode.IsPrint(r) || unicode.IsSpace(r)) {
			printable++
		}
	}
	if float64(printable)/float64(total) < 0.9 {
		c.Detail = "the document has no readable text; it may be a scan or a binary file, so send its text layer"
		return c
	}
	lower := strings.ToLower(trimmed)
	for _, w := range invoiceWords {
		if strings.Contains(lower, w) {
			c.Passed, c.Detail = true, "the document is readable text"
			return c
		}
	}
	c.Detail = "the document does not look like an invoice: it mentions no invoice, bill or total"
	return c
}

// validateInvoice runs every rule on an extracted invoice and the store's
// facts. The hard ones no approval overrides: a known currency, a positive
// amount on an invoice, a vendor in the master whose name and tax id agree,
// and no duplicate.
func validateInvoice(inv Invoice, facts activities.InvoiceFacts, p InvoicePolicy) []Check {
	checks := []Check{
		currencyCheck(inv),
		amountCheck(inv),
		arithmeticCheck(inv),
		datesCheck(inv),
		vendorCheck(inv, facts),
		duplicateCheck(inv, facts),
	}
	if inv.DocumentType == DocumentCreditNote {
		return append(checks, creditReferenceCheck(inv, facts))
	}
	return append(checks, purchaseOrderCheck(inv, facts, p.POTolerance))
}

func currencyCheck(inv Invoice) Check {
	c := Check{Name: "currency", Hard: true}
	if !money.Known(inv.Currency) {
		c.Detail = fmt.Sprintf("the currency %q is not one Tandem knows", inv.Currency)
		return c
	}
	c.Passed, c.Detail = true, inv.Currency+" is a known currency"
	return c
}

// amountCheck keeps invoices and credit notes apart: an invoice's total is
// positive, a credit note's is not zero and credits an invoice it names.
func amountCheck(inv Invoice) Check {
	c := Check{Name: "document type", Hard: true}
	total := money.Format(inv.Total, inv.Currency)
	switch inv.DocumentType {
	case DocumentInvoice:
		if !inv.Total.IsPositive() {
			c.Detail = fmt.Sprintf("the invoice's total is %s; an invoice posts a positive amount, and a credit note is its own document type", total)
			return c
		}
		c.Passed, c.Detail = true, "an invoice for "+total
	case DocumentCreditNote:
		if inv.Total.IsZero() {
			c.Detail = "the credit note credits nothing (its total is zero)"
			return c
		}
		c.Passed, c.Detail = true, fmt.Sprintf("a credit note for a credit of %s", money.Format(inv.Total.Abs(), inv.Currency))
	default:
		c.Detail = fmt.Sprintf("the document type %q is neither an invoice nor a credit note", inv.DocumentType)
	}
	return c
}

// arithmeticCheck checks the figures exactly, in the currency's minor
// units: each line's quantity times unit price, rounded to the minor unit,
// is the line's amount; the lines add up to the subtotal; subtotal plus tax
// is the total.
func arithmeticCheck(inv Invoice) Check {
	c := Check{Name: "arithmetic"}
	cur := inv.Currency
	if len(inv.Lines) == 0 {
		c.Detail = "the invoice has no line items"
		return c
	}
	for _, f := range []struct {
		name  string
		value decimal.Decimal
	}{{"the subtotal", inv.Subtotal}, {"the tax", inv.Tax}, {"the total", inv.Total}} {
		if !money.Exact(f.value, cur) {
			c.Detail = fmt.Sprintf("%s %s has more digits than %s has", f.name, f.value, cur)
			return c
		}
	}
	sum := decimal.Zero
	for i, l := range inv.Lines {
		if product := money.Round(l.Quantity.Mul(l.UnitPrice), cur); !product.Equal(l.Amount) {
			c.Detail = fmt.Sprintf("line %d: %s × %s is %s, not %s", i+1, l.Quantity, money.Fixed(l.UnitPrice, cur),
				money.Fixed(product, cur), money.Fixed(l.Amount, cur))
			return c
		}
		sum = sum.Add(l.Amount)
	}
	if !sum.Equal(inv.Subtotal) {
		c.Detail = fmt.Sprintf("the lines add up to %s, but the stated subtotal is %s", money.Format(sum, cur), money.Format(inv.Subtotal, cur))
		return c
	}
	if total := inv.Subtotal.Add(inv.Tax); !total.Equal(inv.Total) {
		c.Detail = fmt.Sprintf("subtotal %s plus tax %s is %s, but the stated total is %s", money.Fixed(inv.Subtotal, cur),
			money.Fixed(inv.Tax, cur), money.Fixed(total, cur), money.Format(inv.Total, cur))
		return c
	}
	c.Passed, c.Detail = true, fmt.Sprintf("%d lines add up to the stated subtotal %s; with tax %s the total is %s", len(inv.Lines),
		money.Fixed(inv.Subtotal, cur), money.Fixed(inv.Tax, cur), money.Format(inv.Total, cur))
	return c
}

func datesCheck(inv Invoice) Check {
	c := Check{Name: "dates"}
	issued, err := time.Parse(time.DateOnly, inv.IssueDate)
	if err != nil {
		c.Detail = fmt.Sprintf("the issue date %q is not a date", inv.IssueDate)
		return c
	}
	due, err := time.Parse(time.DateOnly, inv.DueDate)
	if err != nil {
		c.Detail = fmt.Sprintf("the due date %q is not a date", inv.DueDate)
		return c
	}
	if due.Before(issued) {
		c.Detail = fmt.Sprintf("the due date %s is before the issue date %s", inv.DueDate, inv.IssueDate)
		return c
	}
	c.Passed, c.Detail = true, fmt.Sprintf("issued %s, due %s", inv.IssueDate, inv.DueDate)
	return c
}

// vendorCheck posts only to a vendor in the master, and only when the
// invoice's vendor name and tax id both belong to it: a known vendor's tax
// id on another vendor's invoice is a fraud route, not a typo to approve.
func vendorCheck(inv Invoice, facts activities.InvoiceFacts) Check {
	c := Check{Name: "vendor", Hard: true}
	v := facts.Vendor
	switch {
	case v == nil:
		c.Detail = fmt.Sprintf("vendor %q (tax id %q) is not in the vendor master; Tandem posts only to vendors in it", inv.VendorName, inv.VendorTaxID)
	case facts.VendorMatchedBy == "taxId" && !sameVendorName(inv.VendorName, v.Name):
		c.Detail = fmt.Sprintf("the invoice names vendor %q, but its tax id %s belongs to %s (%s)", inv.VendorName, v.TaxID, v.Name, v.ID)
	case facts.VendorMatchedBy == "name" && strings.TrimSpace(inv.VendorTaxID) != "":
		c.Detail = fmt.Sprintf("the invoice gives tax id %q, but vendor %s (%s) has tax id %s", inv.VendorTaxID, v.Name, v.ID, v.TaxID)
	case !v.Active:
		c.Hard = false
		c.Detail = fmt.Sprintf("vendor %s (%s) is inactive", v.Name, v.ID)
	default:
		c.Passed, c.Detail = true, fmt.Sprintf("vendor %s (%s) is known and active; name and tax id agree", v.Name, v.ID)
	}
	return c
}

// legalSuffixes are the legal-form words a vendor name may carry or omit.
var legalSuffixes = []string{"inc", "incorporated", "llc", "ltd", "limited", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl",
	"spa", "bv", "nv", "ab", "as", "oy", "co", "corp", "corporation", "company", "sp", "zoo"}

// sameVendorName compares vendor names after case, punctuation and legal
// suffixes: "ACME Office Supplies GmbH" and "Acme Office Supplies" agree.
func sameVendorName(a, b string) bool {
	norm := func(s string) string {
		words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for len(words) > 1 && slices.Contains(legalSuffixes, words[len(words)-1]) {
			words = words[:len(words)-1]
		}
		return strings.Join(words, " ")
	}
	return norm(a) != "" && norm(a) == norm(b)
}

func duplicateCheck(inv Invoice, facts activities.InvoiceFacts) Check {
	c := Check{Name: "duplicate", Hard: true}
	switch facts.DuplicateBy {
	case "document":
		c.Detail = fmt.Sprintf("this very document was already posted (by %s)", facts.PostedBy)
	case "number":
		c.Detail = fmt.Sprintf("%s %s of %s was already posted (by %s)", strings.ReplaceAll(inv.DocumentType, "_", " "), inv.InvoiceNumber, inv.VendorName, facts.PostedBy)
	default:
		if strings.TrimSpace(inv.InvoiceNumber) == "" {
			c.Hard, c.Detail = false, "the document has no number, so only its text could be matched: not posted before"
			return c
		}
		c.Passed, c.Detail = true, fmt.Sprintf("neither this document nor number %s from this vendor was posted before", inv.InvoiceNumber)
	}
	return c
}

// creditReferenceCheck matches a credit note to the posted invoice it
// credits: same vendor, and no more than that invoice's amount.
func creditReferenceCheck(inv Invoice, facts activities.InvoiceFacts) Check {
	c := Check{Name: "credited invoice"}
	ref := facts.CreditedInvoice
	switch {
	case strings.TrimSpace(inv.RefersTo) == "":
		c.Detail = "the credit note names no invoice it credits"
	case ref == nil:
		c.Detail = fmt.Sprintf("invoice %s of this vendor is not in the ledger", inv.RefersTo)
	case ref.Currency != inv.Currency:
		c.Detail = fmt.Sprintf("invoice %s is in %s, the credit note in %s", ref.InvoiceNumber, ref.Currency, inv.Currency)
	case inv.Total.Abs().GreaterThan(ref.Amount):
		c.Detail = fmt.Sprintf("the credit of %s is more than invoice %s's %s", money.Format(inv.Total.Abs(), inv.Currency),
			ref.InvoiceNumber, money.Format(ref.Amount, ref.Currency))
	default:
		c.Passed, c.Detail = true, fmt.Sprintf("credits invoice %s of %s (posted by %s)", ref.InvoiceNumber,
			money.Format(ref.Amount, ref.Currency), ref.WorkflowID)
	}
	return c
}

func purchaseOrderCheck(inv Invoice, facts activities.InvoiceFacts, tolerance decimal.Decimal) Check {
	c := Check{Name: "purchase order"}
	po := facts.PurchaseOrder
	switch {
	case strings.TrimSpace(inv.PONumber) == "":
		c.Detail = "the invoice names no purchase order"
	case po == nil:
		c.Detail = fmt.Sprintf("purchase order %s does not exist", inv.PONumber)
	case facts.Vendor == nil || po.VendorID != facts.Vendor.ID:
		c.Detail = fmt.Sprintf("purchase order %s belongs to vendor %s, not to this invoice's vendor", po.Number, po.VendorID)
	case po.Currency != inv.Currency:
		c.Detail = fmt.Sprintf("purchase order %s is in %s, the invoice in %s", po.Number, po.Currency, inv.Currency)
	case inv.Total.Sub(po.Amount).Abs().GreaterThan(money.Round(po.Amount.Mul(tolerance), po.Currency)):
		c.Detail = fmt.Sprintf("the total %s is more than %s%% away from purchase order %s's %s", money.Fixed(inv.Total, inv.Currency),
			tolerance.Shift(2).String(), po.Number, money.Fixed(po.Amount, po.Currency))
	default:
		c.Passed, c.Detail = true, fmt.Sprintf("purchase order %s matches (%s)", po.Number, money.Format(po.Amount, po.Currency))
	}
	return c
}

// systemAddressed are phrases with which a document speaks to the system
// that processes it instead of to the buyer: a prompt injection, or a
// pressure tactic a person should see.
var systemAddressed = regexp.MustCompile(`(?i)\b(ignore (all |any |the |previous |prior )*(checks?|instructions?|rules?)|approve (it|this|immediately|automatically|without)|` +
	`(do not|don't|no need to) (check|verify|validate|review)|auto-?approve|skip (the )?(checks?|validation|review)|` +
	`(you are|as) an? (ai|assistant|language model)|system prompt|disregard)\b`)

// instructionsCheck flags text in the document that addresses the
// processing system ("approve it", "ignore the checks"), for the person who
// decides; it never changes what the checks found.
func instructionsCheck(text string) Check {
	c := Check{Name: "instructions in the document"}
	if found := systemAddressed.FindAllString(text, 3); len(found) > 0 {
		quoted := make([]string, len(found))
		for i, f := range found {
			quoted[i] = strconv.Quote(f)
		}
		c.Detail = fmt.Sprintf("the document addresses the processing system (%s); treat it with suspicion", strings.Join(quoted, ", "))
		return c
	}
	c.Passed, c.Detail = true, "the document gives the processing system no instructions"
	return c
}
