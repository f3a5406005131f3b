package e2e

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

// TestSandboxedInvoiceLeavesTheLedgerUntouched starts an invoice with
// --sandbox through the real starter, approves it, and checks that the run
// reports a simulated posting, the ledger has no row, the effect is recorded,
// and the run carries the TandemSandbox search attribute.
func TestSandboxedInvoiceLeavesTheLedgerUntouched(t *testing.T) {
	t.Parallel()
	td, _ := scriptedTandem(t, "invoice-sandbox", accountant())
	code, stdout, stderr := td.starter(t, "invoice", "--sandbox", "-o", "json", filepath.Join("testdata", "invoices", "clean-over-threshold.txt"))
	require.Equal(t, 0, code, stderr)
	l := jsonLines[invoiceLine](t, stdout)[0]
	require.NotNil(t, l.Pending)

	code, stdout, stderr = td.starter(t, "approve", l.WorkflowID, "--by", "ap.clerk", "--wait", "-o", "json")
	require.Equal(t, 0, code, stderr)
	res := jsonLines[struct {
		Result workflows.InvoiceResult `json:"result"`
	}](t, stdout)[0].Result
	require.NotNil(t, res.Ledger)
	assert.True(t, res.Ledger.Sandbox, "the posting was simulated")

	var ledger, effects int
	storetest.Scan(t, td.db, `SELECT count(*) FROM ledger WHERE workflow_id = ?`, []any{l.WorkflowID}, &ledger)
	storetest.Scan(t, td.db, `SELECT count(*) FROM sandbox_effects WHERE workflow_id = ?`, []any{l.WorkflowID}, &effects)
	assert.Zero(t, ledger)
	assert.Equal(t, 2, effects, "the approvers' notification and the ledger posting")

	desc, err := td.servers.Client(t).DescribeWorkflowExecution(context.Background(), l.WorkflowID, "")
	require.NoError(t, err)
	assert.Equal(t, "true", string(desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["TandemSandbox"].GetData()))
}
