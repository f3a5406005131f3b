package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

type invoiceLine struct {
	Source     string                     `json:"source"`
	WorkflowID string                     `json:"workflowId"`
	Pending    *workflows.PendingDecision `json:"pending"`
	Result     *workflows.InvoiceResult   `json:"result"`
	Error      string                     `json:"error"`
}

// TestTheRandomModelsExtractionIsNeverPosted runs a clean invoice with the
// random test model through the real servers: whatever it extracts names no
// vendor in the master, so the policy rejects it and nothing is posted.
func TestTheRandomModelsExtractionIsNeverPosted(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	code, stdout, stderr := td.starter(t, "invoice", "-o", "json", filepath.Join("testdata", "invoices", "clean-under-threshold.txt"))
	require.Equal(t, 0, code, stderr)
	l := jsonLines[invoiceLine](t, stdout)[0]
	require.Empty(t, l.Error)
	require.NotNil(t, l.Result, "refused by the policy, without asking anyone")
	assert.False(t, l.Result.Approved)
	assert.Equal(t, "policy", l.Result.Decision.By)
	assert.Nil(t, l.Result.Ledger)
	var rows int
	storetest.Scan(t, td.db, `SELECT count(*) FROM ledger WHERE workflow_id = ?`, []any{l.WorkflowID}, &rows)
	assert.Zero(t, rows, "garbage is never posted")
}

// TestInvoiceGoesToAPersonWhoApprovesThroughTheStarter runs a clean invoice
// over the auto-approval amount, extracted correctly by a scripted model
// behind the real Ollama API: the run waits for a person, who approves with
// the real starter, and the invoice is posted to the ledger exactly once.
func TestInvoiceGoesToAPersonWhoApprovesThroughTheStarter(t *testing.T) {
	t.Parallel()
	td, _ := scriptedTandem(t, "invoice-approve", accountant())
	sample := filepath.Join("testdata", "invoices", "clean-over-threshold.txt")

	code, stdout, stderr := td.starter(t, "invoice", "-o", "json", sample)
	require.Equal(t, 0, code, stderr)
	lines := jsonLines[invoiceLine](t, stdout)
	require.Len(t, lines, 1)
	l := lines[0]
	require.Empty(t, l.Error)
	require.Nil(t, l.Result, "an invoice over the auto-approval amount waits for a person")
	require.NotNil(t, l.Pending)
	assert.Equal(t, []string{"ap.clerk", "ap.lead"}, l.Pending.Approvers)
	assert.Equal(t, "Approve invoice GLX-88120 from Globex Consulting Ltd for 12000.00 EUR? Every check passed; it is over the auto-approval amount",
		l.Pending.Question)
	assert.Len(t, l.Pending.Checks, 9, "the person sees every check")

	code, stdout, stderr = td.starter(t, "list", "--waiting", "--kind", "invoice", "--ids")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, l.WorkflowID, "the waiting run is listed by its search attributes")

	code, _, stderr = td.starter(t, "approve", l.WorkflowID, "--by", "mallory")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "refused the decision: mallory may not decide this; one of ap.clerk, ap.lead may")

	code, stdout, stderr = td.starter(t, "approve", l.WorkflowID, "--by", "ap.clerk", "--wait", "-o", "json")
	require.Equal(t, 0, code, stderr)
	finished := jsonLines[struct {
		Result workflows.InvoiceResult `json:"result"`
	}](t, stdout)
	require.Len(t, finished, 1)
	done := finished[0]
	assert.True(t, done.Result.Approved)
	assert.Equal(t, "ap.clerk", done.Result.Decision.By)
	require.NotNil(t, done.Result.Ledger)
	assert.Equal(t, l.WorkflowID, done.Result.Ledger.IdempotencyKey)
	require.NotEmpty(t, done.Result.ModelCalls)

	if dir := os.Getenv("TANDEM_RECORD_HISTORY"); dir != "" {
		recordHistory(t, td.servers.Client(t), l.WorkflowID, "", filepath.Join(dir, "invoice-approved.json"))
	}
	var rows int
	var approvedBy string
	storetest.Scan(t, td.db, `SELECT count(*), max(approved_by) FROM ledger WHERE workflow_id = ?`, []any{l.WorkflowID}, &rows, &approvedBy)
	assert.Equal(t, 1, rows, "posted exactly once")
	assert.Equal(t, "ap.clerk", approvedBy)

	code, stdout, stderr = td.starter(t, "audit", "-o", "json", l.WorkflowID)
	require.Equal(t, 0, code, stderr)
	var audit struct {
		Type       string `json:"type"`
		InputHash  string `json:"inputHash"`
		DataPolicy struct {
			Hash, Source string
		} `json:"dataPolicy"`
		ModelCalls []struct {
			Model, Digest string
		} `json:"modelCalls"`
		Decisions []struct {
			Update string
			Input  workflows.Decision
		} `json:"decisions"`
		Outcome struct {
			Approved bool `json:"approved"`
		} `json:"outcome"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &audit))
	assert.Equal(t, workflows.InvoiceProcessingName, audit.Type)
	assert.Len(t, audit.InputHash, 64)
	snap, err := policy.Load("", workflows.ToolNames())
	require.NoError(t, err)
	assert.Equal(t, snap.Hash, audit.DataPolicy.Hash, "the run recorded the worker's data policy")
	assert.Equal(t, "built-in default", audit.DataPolicy.Source)
	desc, err := td.servers.Client(t).DescribeWorkflowExecution(context.Background(), l.WorkflowID, "")
	require.NoError(t, err)
	var memoHash string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[workflows.DataPolicyMemo], &memoHash))
	assert.Equal(t, snap.Hash, memoHash, "the Web UI shows the policy hash in the memo")
	require.Len(t, audit.ModelCalls, len(done.Result.ModelCalls), "every model call, from history alone")
	assert.Equal(t, td.cfg.Model, audit.ModelCalls[0].Model)
	assert.NotEmpty(t, audit.ModelCalls[0].Digest)
	require.Len(t, audit.Decisions, 1, "the refused decision never entered history")
	assert.Equal(t, workflows.Decision{Approve: true, By: "ap.clerk"}, audit.Decisions[0].Input)
	assert.True(t, audit.Outcome.Approved)

	code, _, stderr = td.starter(t, "reject", l.WorkflowID, "--by", "ap.lead", "--reason", "late")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "is already closed (Completed); there is nothing left to decide")

	code, _, stderr = td.starter(t, "approve", "invoice-no-such-run", "--by", "ap.clerk")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "there is no run invoice-no-such-run in namespace default")
}

// TestUnreadableInvoiceIsRejectedWithASentence sends the binary sample: it is
// rejected before any model call, and nothing reaches the ledger.
func TestUnreadableInvoiceIsRejectedWithASentence(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	code, stdout, stderr := td.starter(t, "invoice", "-o", "json", filepath.Join("testdata", "invoices", "unreadable.txt"))
	require.Equal(t, 0, code, stderr)
	l := jsonLines[invoiceLine](t, stdout)[0]
	require.NotNil(t, l.Result)
	assert.False(t, l.Result.Approved)
	assert.Equal(t, "the document has no readable text; it may be a scan or a binary file, so send its text layer", l.Result.Decision.Reason)
	assert.Empty(t, l.Result.ModelCalls)
	assert.Nil(t, l.Result.Ledger)
}

// TestInvoiceRulesWithACorrectExtraction runs one sample per business rule
// through the real starter, worker and Temporal, with a scripted model that
// extracts each invoice correctly: the hard rules reject without a person,
// the others wait for one, a credit note is never auto-approved and posts
// as a credit against the invoice it names.
func TestInvoiceRulesWithACorrectExtraction(t *testing.T) {
	t.Parallel()
	td, _ := scriptedTandem(t, "invoice-rules", accountant())
	run := func(sample string) invoiceLine {
		code, stdout, stderr := td.starter(t, "invoice", "-o", "json", filepath.Join("testdata", "invoices", sample))
		require.Equal(t, 0, code, stderr)
		l := jsonLines[invoiceLine](t, stdout)[0]
		require.Empty(t, l.Error, sample)
		return l
	}
	failed := func(res *workflows.InvoiceResult, name string) string {
		for _, c := range res.Checks {
			if c.Name == name && !c.Passed {
				return c.Detail
			}
		}
		return ""
	}

	clean := run("clean-under-threshold.txt")
	require.NotNil(t, clean.Result, "a clean invoice under the threshold posts without a person")
	require.NotNil(t, clean.Result.Ledger)
	assert.Equal(t, "245.14", clean.Result.Ledger.Amount.StringFixed(2))

	for sample, want := range map[string]struct{ check, reason string }{
		"vendor-name-mismatch.txt": {"vendor", `the invoice names vendor "ACNE OFFICE SUPPLIERS LTD", but its tax id DE811234567 belongs to Acme Office Supplies (V-ACME)`},
		"unknown-vendor.txt":       {"vendor", `vendor "Stark Supplies S.L." (tax id "ESB12345678") is not in the vendor master; Tandem posts only to vendors in it`},
		"duplicate.txt":            {"duplicate", "invoice INI-2024-0042 of Initech Hardware Inc. was already posted (by seed)"},
	} {
		l := run(sample)
		require.NotNil(t, l.Result, "%s is refused without a person", sample)
		assert.Equal(t, workflows.Decision{By: "policy", Reason: want.reason}, l.Result.Decision, sample)
		assert.Equal(t, want.reason, failed(l.Result, want.check), sample)
	}

	for sample, want := range map[string]string{
		"subtotal-off.txt":   "the lines add up to 206.00 EUR, but the stated subtotal is 206.03 EUR",
		"bad-arithmetic.txt": "line 2: 5 × 30.00 is 150.00, not 180.00",
	} {
		l := run(sample)
		require.NotNil(t, l.Pending, "%s waits for a person", sample)
		assert.Contains(t, l.Pending.Question, "arithmetic: "+want, sample)
	}

	credit := run("credit-note.txt")
	require.NotNil(t, credit.Pending, "a credit note always waits for a person")
	assert.Equal(t, "Approve credit note CN-2026-0009 from ACME OFFICE SUPPLIES GmbH, a credit of 34.51 EUR against invoice ACM-2026-1187? "+
		"Every check passed; credit notes always need a person", credit.Pending.Question)
	code, stdout, stderr := td.starter(t, "approve", credit.WorkflowID, "--by", "ap.lead", "--wait", "-o", "json")
	require.Equal(t, 0, code, stderr)
	res := jsonLines[struct {
		Result workflows.InvoiceResult `json:"result"`
	}](t, stdout)[0].Result
	require.NotNil(t, res.Ledger)
	assert.Equal(t, workflows.DocumentCreditNote, res.Ledger.Kind)
	assert.Equal(t, "-34.51", res.Ledger.Amount.StringFixed(2))

	var minor int64
	var kind, refersTo string
	storetest.Scan(t, td.db, `SELECT amount_minor, kind, refers_to FROM ledger WHERE workflow_id = ?`, []any{credit.WorkflowID}, &minor, &kind, &refersTo)
	assert.Equal(t, int64(-3451), minor)
	assert.Equal(t, "credit_note", kind)
	assert.Equal(t, "ACM-2026-1187", refersTo)
}
