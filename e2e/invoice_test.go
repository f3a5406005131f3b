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
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/workflows"
)

type invoiceLine struct {
	Source     string                     `json:"source"`
	WorkflowID string                     `json:"workflowId"`
	Pending    *workflows.PendingDecision `json:"pending"`
	Result     *workflows.InvoiceResult   `json:"result"`
	Error      string                     `json:"error"`
}

// TestInvoiceGoesToAPersonWhoApprovesThroughTheStarter runs a clean invoice
// under the auto-approval amount with the random test model: its extraction
// cannot pass every check, so the run must wait for a person, never approve
// itself. A person approves with the real starter, and the invoice is posted
// to the ledger exactly once.
func TestInvoiceGoesToAPersonWhoApprovesThroughTheStarter(t *testing.T) {
	td := startTandem(t)
	sample := filepath.Join("testdata", "invoices", "clean-under-threshold.txt")

	code, stdout, stderr := td.starter(t, "invoice", "--json", sample)
	require.Equal(t, 0, code, stderr)
	lines := jsonLines[invoiceLine](t, stdout)
	require.Len(t, lines, 1)
	l := lines[0]
	require.Empty(t, l.Error)
	require.Nil(t, l.Result, "the random model's extraction must not be auto-approved")
	require.NotNil(t, l.Pending)
	assert.Equal(t, []string{"ap.clerk", "ap.lead"}, l.Pending.Approvers)

	code, stdout, stderr = td.starter(t, "list", "--waiting", "--kind", "invoice", "--ids")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, l.WorkflowID, "the waiting run is listed by its search attributes")

	code, _, stderr = td.starter(t, "approve", l.WorkflowID, "--by", "mallory")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "refused the decision: mallory may not decide this; one of ap.clerk, ap.lead may")

	code, stdout, stderr = td.starter(t, "approve", l.WorkflowID, "--by", "ap.clerk", "--wait", "--json")
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
	db, err := store.Open(context.Background(), td.dbPath)
	require.NoError(t, err)
	defer db.Close()
	var rows int
	var approvedBy string
	require.NoError(t, db.QueryRow(`SELECT count(*), max(approved_by) FROM ledger WHERE workflow_id = ?`, l.WorkflowID).Scan(&rows, &approvedBy))
	assert.Equal(t, 1, rows, "posted exactly once")
	assert.Equal(t, "ap.clerk", approvedBy)

	code, stdout, stderr = td.starter(t, "audit", "--json", l.WorkflowID)
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
	td := startTandem(t)
	code, stdout, stderr := td.starter(t, "invoice", "--json", filepath.Join("testdata", "invoices", "unreadable.txt"))
	require.Equal(t, 0, code, stderr)
	l := jsonLines[invoiceLine](t, stdout)[0]
	require.NotNil(t, l.Result)
	assert.False(t, l.Result.Approved)
	assert.Equal(t, "the document has no readable text; it may be a scan or a binary file, so send its text layer", l.Result.Decision.Reason)
	assert.Empty(t, l.Result.ModelCalls)
	assert.Nil(t, l.Result.Ledger)
}
