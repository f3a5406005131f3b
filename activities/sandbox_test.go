package activities

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/store/storetest"
)

// TestSandboxRecordsSideEffectsInsteadOfPerformingThem runs each
// side-effecting activity in a sandboxed context: the ledger, the outbox,
// balances and refunds stay untouched, and each effect is recorded once.
func TestSandboxRecordsSideEffectsInsteadOfPerformingThem(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	s := tools.Store
	ctx := sandbox.With(context.Background(), true)

	entry, err := s.PostInvoice(ctx, LedgerPosting{IdempotencyKey: "inv-1", VendorID: "V-ACME", InvoiceNumber: "X-1", Amount: decimal.NewFromInt(10), Currency: "EUR", WorkflowID: "inv-1"})
	require.NoError(t, err)
	assert.True(t, entry.Sandbox)
	rec, err := s.RecordLeave(ctx, LeaveOutcome{IdempotencyKey: "leave-1", EmployeeID: "E-101", Type: "annual", Start: day(30), End: day(31),
		Days: 2, Approved: true, DecidedBy: "E-100", WorkflowID: "leave-1"})
	require.NoError(t, err)
	assert.True(t, rec.Sandbox)
	require.NoError(t, s.Notify(ctx, Notification{IdempotencyKey: "n-1", Recipients: []string{"x@example.com"}, Subject: "s", Body: "b", WorkflowID: "n-1"}))
	res, err := tools.WriteTool(ctx, ToolCall{RunKey: "agent-1", Step: 1, Name: "issue_refund", Args: json.RawMessage(`{"orderId":"O-20931","amount":59,"reason":"lost"}`)})
	require.NoError(t, err)
	assert.Contains(t, res.Observation, "sandbox: issue_refund")
	_, err = s.PostInvoice(ctx, LedgerPosting{IdempotencyKey: "inv-1", VendorID: "V-ACME", InvoiceNumber: "X-1", Amount: decimal.NewFromInt(10), Currency: "EUR", WorkflowID: "inv-1"})
	require.NoError(t, err, "a retried sandboxed post succeeds")

	assert.Equal(t, 0, storetest.Int(t, s.Records, `SELECT count(*) FROM ledger WHERE idempotency_key = 'inv-1'`))
	assert.Equal(t, 0, storetest.Int(t, s.Records, `SELECT count(*) FROM outbox`))
	assert.Equal(t, 0, storetest.Int(t, s.Records, `SELECT count(*) FROM refunds`))
	assert.Equal(t, 0, storetest.Int(t, s.Records, `SELECT count(*) FROM leave_requests WHERE idempotency_key = 'leave-1'`))
	assert.Equal(t, 36, storetest.Int(t, s.Records, `SELECT half_days FROM leave_balances WHERE employee_id = 'E-101' AND leave_type = 'annual'`), "18 days, untouched")
	assert.Equal(t, 4, storetest.Int(t, s.Records, `SELECT count(*) FROM sandbox_effects`), "one record per effect, once")
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM sandbox_effects WHERE kind = 'ledger' AND effect LIKE '%"invoiceNumber":"X-1"%'`))
}
