package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/workflows"
)

// chromium finds Debian's Chromium, or skips (fails under TANDEM_REQUIRE_E2E=1).
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("TANDEM_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("TANDEM_REQUIRE_E2E") == "1" {
		t.Fatal("the browser test needs Chromium; install Debian's chromium package")
	}
	t.Skip("browser test skipped: no Chromium (install Debian's chromium package)")
	return ""
}

// TestWebUIShowsRunsBySearchAttribute drives headless Chromium against the
// dev server's Web UI: a finished ticket routing and an invoice waiting for a
// person are listed by Tandem's search attributes, the waiting filter tells
// them apart, and the run's page says what each step did.
func TestWebUIShowsRunsBySearchAttribute(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	srv, td := triggerAPI(t)
	_ = srv
	c := td.servers.Client(t)
	tandem := api.NewClient(c, td.cfg.TaskQueue)
	ctx := context.Background()
	suffix := fmt.Sprint(time.Now().UnixNano())

	ticket, err := tandem.StartTicketRouting(ctx, "ticket-webui-"+suffix, workflows.TicketRoutingInput{
		Ticket: workflows.Ticket{Subject: "Parcel", Body: "Where is it?", Customer: "Camille", Channel: "web"},
		Model:  workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	invoice, err := tandem.StartInvoice(ctx, "invoice-webui-"+suffix, workflows.InvoiceInput{
		Document: "INVOICE ACM-77, total 119.00 EUR", Model: workflows.ModelSettings{Model: "scripted", TaskQueue: td.cfg.ModelTaskQueue}})
	require.NoError(t, err)
	_, _ = ticket.Result(ctx)
	require.Eventually(t, func() bool {
		st, err := invoice.Status(ctx)
		return err == nil && st.Pending != nil
	}, 30*time.Second, 200*time.Millisecond)
	waitForVisibility(t, c, "TandemWaiting = true AND WorkflowId = '"+invoice.ID+"'")

	allocCtx, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank")), "start Chromium")

	// page opens u, waits until its text contains want, and returns the text.
	page := func(u, want string) string {
		tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(tctx, chromedp.Navigate(u)), "open %s", u)
		var text string
		for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			text, _ = chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			if strings.Contains(text, want) {
				return text
			}
		}
		screenshot, _ := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		shot := filepath.Join(os.TempDir(), "tandem-webui-failure.png")
		_ = os.WriteFile(shot, screenshot, 0o644)
		t.Fatalf("%s does not show %q within 45 s (screenshot in %s); it shows:\n%s", u, want, shot, text)
		return ""
	}
	// The filter chips repeat the query; workflow type names appear only in
	// the rows of the result.
	list := func(query, want string) string {
		return page(fmt.Sprintf("%s/namespaces/default/workflows?query=%s", td.servers.UIURL, url.QueryEscape(query)), want)
	}
	all := list(fmt.Sprintf(`TandemKind IN ("ticket-routing", "invoice") AND WorkflowId IN ("%s", "%s")`, ticket.ID, invoice.ID),
		workflows.InvoiceProcessingName)
	require.Contains(t, all, workflows.TicketRoutingName, "the finished run is listed")
	require.Contains(t, all, workflows.InvoiceProcessingName, "the waiting run is listed")

	waiting := list(fmt.Sprintf(`TandemWaiting = true AND WorkflowId IN ("%s", "%s")`, ticket.ID, invoice.ID), workflows.InvoiceProcessingName)
	require.NotContains(t, waiting, workflows.TicketRoutingName, "only the run waiting for a decision")

	// The run's page says what each step did, through the activity summaries.
	details := page(fmt.Sprintf("%s/namespaces/default/workflows/%s", td.servers.UIURL, invoice.ID), "extract invoice: vendor, number, dates, lines, totals, PO")
	require.Contains(t, details, "look up vendor, ledger and PO")
	require.Contains(t, details, "decision to ap.clerk, ap.lead")
	require.Contains(t, details, "Search Attributes")

	// TANDEM_SCREENSHOT_DIR keeps a picture of the waiting run's page, as
	// the README shows it.
	if dir := os.Getenv("TANDEM_SCREENSHOT_DIR"); dir != "" {
		require.NoError(t, chromedp.Do(bctx, chromedp.EmulateViewport(1400, 1000), chromedp.Sleep(time.Second)))
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "webui-invoice.png"), png, 0o644))
	}
}

// waitForVisibility waits until the visibility store answers query.
func waitForVisibility(t *testing.T, c client.Client, query string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := c.CountWorkflow(context.Background(), countRequest(query))
		return err == nil && resp.GetCount() > 0
	}, 20*time.Second, 200*time.Millisecond, query)
}

func countRequest(query string) *workflowservice.CountWorkflowExecutionsRequest {
	return &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: query}
}
