package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/pdftext"
	"github.com/tandemhq/tandem/workflows"
)

func processInvoice(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlagSet("invoice", "FILE... | - (text, or a PDF with a text layer)", &cfg)
	sandboxed := fs.Bool("sandbox", false, "record side effects (ledger, outbox, refunds, balances) instead of performing them")
	asJSON := fs.Bool("json", false, "print results as JSON lines")
	wait := fs.Bool("wait", true, "wait until each run completes or waits for a person")
	autoApproveBelow := fs.String("auto-approve-below", "", "post without a person below this total (at most the business's 1000)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("invoice needs at least one invoice text file, or - to read one from stdin")}
	}
	var policy workflows.InvoicePolicy
	if *autoApproveBelow != "" {
		limit, err := decimal.NewFromString(*autoApproveBelow)
		if err != nil {
			return usageError{fmt.Errorf("--auto-approve-below %q is not an amount; write it like 250 or 99.50", *autoApproveBelow)}
		}
		policy.AutoApproveBelow = limit
	}
	jobs := make([]job, fs.NArg())
	for i, name := range fs.Args() {
		data, source, err := readInput("invoice file", name)
		if err != nil {
			return usageError{err}
		}
		if pdftext.IsPDF(data) {
			text, err := pdftext.Extract(data)
			if err != nil {
				return usageError{fmt.Errorf("invoice file %s: %v", source, err)}
			}
			data = []byte(text)
		}
		jobs[i] = job{sandbox: *sandboxed, source: source, kind: "invoice",
			input: workflows.InvoiceInput{Document: string(data), Model: modelSettings(cfg), Policy: policy}}
	}
	return runJobs(ctx, cfg, jobs, *wait, *asJSON, out, printInvoice)
}

func printInvoice(out io.Writer, source, id string, res workflows.InvoiceResult) {
	verdict := "✖ rejected"
	if res.Approved {
		verdict = "✔ approved"
	}
	fmt.Fprintf(out, "%s\n", strings.Join(nonEmpty(verdict, source, id), "  "))
	if !res.Approved && res.Decision.Approve && len(res.Checks) > 0 {
		last := res.Checks[len(res.Checks)-1]
		fmt.Fprintf(out, "  approved by %s, then refused at posting: %s\n", res.Decision.By, oneLine(last.Detail, 100))
	} else {
		fmt.Fprintf(out, "  decided by %s\n", decidedBy(res.Decision.By, res.Decision.Reason))
	}
	printChecks(out, res.Checks)
	if l := res.Ledger; l != nil {
		posted := "posted"
		if l.Sandbox {
			posted = "sandbox, not posted"
		}
		fmt.Fprintf(out, "  ledger: %s %s %s · %s · approved by %s (%s)\n", l.Kind, l.VendorID, l.InvoiceNumber,
			money.Format(l.Amount, l.Currency), l.ApprovedBy, posted)
	}
	if len(res.ModelCalls) > 0 {
		fmt.Fprintf(out, "  model: %s\n", modelCallsLine(res.ModelCalls))
	}
}
