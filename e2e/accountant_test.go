package e2e

import (
	"encoding/json"
	"strings"

	"github.com/tandemhq/tandem/workflows"
)

// accountant is a scripted model that extracts the sample invoices the way
// a careful person would, copying every figure as printed, so that the
// business rules are exercised with correct extractions.
func accountant() func(format, last string) string {
	line := func(desc, qty, price, amount string) map[string]any {
		return map[string]any{"description": desc, "quantity": json.Number(qty), "unitPrice": json.Number(price), "amount": json.Number(amount)}
	}
	invoice := func(doc, number, vendor, taxID, issued, due, currency, po, subtotal, tax, total string, lines ...map[string]any) map[string]any {
		return map[string]any{"documentType": doc, "refersTo": "", "vendorName": vendor, "vendorTaxId": taxID, "invoiceNumber": number,
			"issueDate": issued, "dueDate": due, "currency": currency, "poNumber": po, "lines": lines,
			"subtotal": json.Number(subtotal), "tax": json.Number(tax), "total": json.Number(total)}
	}
	acmeLines := []map[string]any{line("Printer paper A4, 500 sheets", "10", "8.50", "85.00"),
		line("Toner cartridge black", "4", "29.00", "116.00"), line("Desk organiser", "2", "2.50", "5.00")}
	credit := invoice(workflows.DocumentCreditNote, "CN-2026-0009", "ACME OFFICE SUPPLIES GmbH", "DE811234567", "2026-11-09", "2026-11-09",
		"EUR", "", "-29.00", "-5.51", "-34.51", line("Toner cartridge black (returned)", "-1", "29.00", "-29.00"))
	credit["refersTo"] = "ACM-2026-1187"
	byNumber := map[string]map[string]any{
		"ACM-2026-1187": invoice(workflows.DocumentInvoice, "ACM-2026-1187", "ACME OFFICE SUPPLIES GmbH", "DE811234567", "2026-11-02", "2026-12-02",
			"EUR", "PO-1001", "206.00", "39.14", "245.14", acmeLines...),
		"ACM-2026-1190": invoice(workflows.DocumentInvoice, "ACM-2026-1190", "ACME OFFICE SUPPLIES GmbH", "DE811234567", "2026-11-03", "2026-12-03",
			"EUR", "PO-1001", "206.03", "39.14", "245.17", acmeLines...),
		"ACM-2026-1201": invoice(workflows.DocumentInvoice, "ACM-2026-1201", "ACME OFFICE SUPPLIES GmbH", "DE811234567", "2026-11-10", "2026-12-10",
			"EUR", "PO-3002", "880.00", "167.20", "1047.20", line("Ergonomic keyboard", "20", "35.00", "700.00"), line("Monitor arm", "5", "30.00", "180.00")),
		"GLX-88120": invoice(workflows.DocumentInvoice, "GLX-88120", "Globex Consulting Ltd", "GB123456789", "2026-11-05", "2026-12-05",
			"EUR", "PO-2001", "10000.00", "2000.00", "12000.00", line("Data platform architecture review", "8", "1250.00", "10000.00")),
		"INI-2024-0042": invoice(workflows.DocumentInvoice, "INI-2024-0042", "Initech Hardware Inc.", "US98-7654321", "2026-10-28", "2026-11-27",
			"USD", "PO-3001", "1785.00", "0.00", "1785.00", line("Rack server 1U", "3", "595.00", "1785.00")),
		"SS-7781": invoice(workflows.DocumentInvoice, "SS-7781", "Stark Supplies S.L.", "ESB12345678", "2026-11-12", "2026-12-12",
			"EUR", "PO-1001", "198.00", "41.58", "239.58", line("Office chair", "2", "99.00", "198.00")),
		"AOS-5531": invoice(workflows.DocumentInvoice, "AOS-5531", "ACNE OFFICE SUPPLIERS LTD", "DE811234567", "2026-11-06", "2026-11-20",
			"EUR", "PO-3002", "756.30", "143.70", "900.00", line("Consulting retainer, November", "1", "756.30", "756.30")),
		"CN-2026-0009": credit,
	}
	return func(format, last string) string {
		if !strings.Contains(format, `"vendorName"`) {
			return "Thank you."
		}
		for _, number := range []string{"CN-2026-0009", "ACM-2026-1187", "ACM-2026-1190", "ACM-2026-1201", "GLX-88120", "INI-2024-0042", "SS-7781", "AOS-5531"} {
			if strings.Contains(last, number) {
				b, _ := json.Marshal(byNumber[number])
				return string(b)
			}
		}
		return `{}`
	}
}
