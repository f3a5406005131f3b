package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/pdftext"
	"github.com/tandemhq/tandem/workflows"
)

// invoiceCmd processes invoice documents.
func invoiceCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "invoice FILE... | -",
		Short: "Process invoices from text files or PDFs with a text layer (or - for stdin): extract, validate, decide, post",
		Example: `  starter invoice testdata/invoices/clean-under-threshold.txt
  starter invoice --sandbox testdata/invoices/*.txt
  starter invoice --auto-approve-below 250 -o json invoice.pdf`,
		Args: args(1, -1, "invoice needs at least one invoice text file, or - to read one from stdin"),
	}
	sandboxed := sandboxFlag(cmd.Flags())
	wait := cmd.Flags().Bool("wait", true, "wait until each run completes or waits for a person")
	autoApproveBelow := cmd.Flags().String("auto-approve-below", "", "post without a person below this total (at most the business's 1000)")
	cmd.RunE = func(cmd *cobra.Command, files []string) error {
		return processInvoice(cmd.Context(), a, files, *sandboxed, *wait, *autoApproveBelow, cmd.OutOrStdout())
	}
	return cmd
}

func processInvoice(ctx context.Context, a *app, files []string, sandboxed, wait bool, autoApproveBelow string, out io.Writer) error {
	cfg := a.cfg
	var policy workflows.InvoicePolicy
	if autoApproveBelow != "" {
		limit, err := decimal.NewFromString(autoApproveBelow)
		if err != nil {
			return usageError{fmt.Errorf("--auto-approve-below %q is not an amount; write it like 250 or 99.50", autoApproveBelow)}
		}
		policy.AutoApproveBelow = limit
	}
	jobs := make([]job, len(files))
	for i, name := range files {
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
		jobs[i] = job{sandbox: sandboxed, source: source, kind: "invoice",
			input: workflows.InvoiceInput{Document: string(data), Model: modelSettings(cfg), Policy: policy}}
	}
	return runJobs(ctx, cfg, jobs, wait, a.json(), out, printInvoice)
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
