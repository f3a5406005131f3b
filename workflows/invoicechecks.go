package workflows

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/tandemhq/tandem/activities"
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

// validateInvoice runs every rule on an extracted invoice and the store's facts.
func validateInvoice(inv Invoice, facts activities.InvoiceFacts, p InvoicePolicy) []Check {
	return []Check{
		arithmeticCheck(inv),
		datesCheck(inv),
		vendorCheck(inv, facts),
		duplicateCheck(inv, facts),
		purchaseOrderCheck(inv, facts, p.POTolerance),
	}
}

const cent = 0.01

func nearly(a, b, tolerance float64) bool { return math.Abs(a-b) <= tolerance+1e-9 }

func arithmeticCheck(inv Invoice) Check {
	c := Check{Name: "arithmetic"}
	if len(inv.Lines) == 0 {
		c.Detail = "the invoice has no line items"
		return c
	}
	var sum float64
	for i, l := range inv.Lines {
		if !nearly(l.Quantity*l.UnitPrice, l.Amount, cent) {
			c.Detail = fmt.Sprintf("line %d: %g × %.2f is %.2f, not %.2f", i+1, l.Quantity, l.UnitPrice, l.Quantity*l.UnitPrice, l.Amount)
			return c
		}
		sum += l.Amount
	}
	if !nearly(sum, inv.Subtotal, cent*float64(len(inv.Lines))) {
		c.Detail = fmt.Sprintf("the lines add up to %.2f, not the subtotal %.2f", sum, inv.Subtotal)
		return c
	}
	if !nearly(inv.Subtotal+inv.Tax, inv.Total, cent) {
		c.Detail = fmt.Sprintf("subtotal %.2f plus tax %.2f is %.2f, not the total %.2f", inv.Subtotal, inv.Tax, inv.Subtotal+inv.Tax, inv.Total)
		return c
	}
	c.Passed, c.Detail = true, fmt.Sprintf("%d lines add up to %.2f; with tax %.2f the total is %.2f", len(inv.Lines), sum, inv.Tax, inv.Total)
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

func vendorCheck(inv Invoice, facts activities.InvoiceFacts) Check {
	c := Check{Name: "vendor"}
	switch v := facts.Vendor; {
	case v == nil:
		c.Detail = fmt.Sprintf("vendor %q (tax id %q) is not in the vendor master", inv.VendorName, inv.VendorTaxID)
	case !v.Active:
		c.Detail = fmt.Sprintf("vendor %s (%s) is inactive", v.Name, v.ID)
	default:
		c.Passed, c.Detail = true, fmt.Sprintf("vendor %s (%s) is known and active", v.Name, v.ID)
	}
	return c
}

func duplicateCheck(inv Invoice, facts activities.InvoiceFacts) Check {
	c := Check{Name: "duplicate", Hard: true}
	if facts.AlreadyPosted {
		c.Detail = fmt.Sprintf("invoice %s of %s was already posted (by %s)", inv.InvoiceNumber, inv.VendorName, facts.PostedBy)
		return c
	}
	c.Passed, c.Detail = true, fmt.Sprintf("invoice %s was not posted before", inv.InvoiceNumber)
	return c
}

func purchaseOrderCheck(inv Invoice, facts activities.InvoiceFacts, tolerance float64) Check {
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
	case math.Abs(inv.Total-po.Amount) > tolerance*po.Amount+cent:
		c.Detail = fmt.Sprintf("the total %.2f is more than %.0f%% away from purchase order %s's %.2f", inv.Total, tolerance*100, po.Number, po.Amount)
	default:
		c.Passed, c.Detail = true, fmt.Sprintf("purchase order %s matches (%.2f %s)", po.Number, po.Amount, po.Currency)
	}
	return c
}
