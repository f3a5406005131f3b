package activities

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApprovalDetailsShowWhatWouldHappen: the approver of a message sees
// the address on file and whether it is the person who wrote in, and the
// whole text; the approver of a refund sees the order it comes from.
func TestApprovalDetailsShowWhatWouldHappen(t *testing.T) {
	t.Parallel()
	tools := testTools(t)
	ctx := context.Background()
	msg := json.RawMessage(`{"customerId":"C-100","subject":"Your lamp","body":"We found it.\nIt ships today."}`)

	details, err := tools.ApprovalDetails(ctx, ToolCall{Name: "send_message", Args: msg, RequestedBy: "Camille.Martin@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "To: Camille Martin <camille.martin@example.com> (on file for customer C-100); the person who wrote in\n"+
		"Subject: Your lamp\n\nWe found it.\nIt ships today.", details)

	details, err = tools.ApprovalDetails(ctx, ToolCall{Name: "send_message", Args: msg, RequestedBy: "C-300"})
	require.NoError(t, err)
	assert.Contains(t, details, "NOT the person who wrote in (C-300)")

	details, err = tools.ApprovalDetails(ctx, ToolCall{Name: "send_message", Args: json.RawMessage(`{"customerId":"C-999","subject":"s","body":"b"}`)})
	require.NoError(t, err)
	assert.Contains(t, details, "To: nobody: there is no customer C-999 with an address on file")

	details, err = tools.ApprovalDetails(ctx, ToolCall{Name: "issue_refund", Args: json.RawMessage(`{"orderId":"O-20931","amount":59,"reason":"lost parcel"}`)})
	require.NoError(t, err)
	assert.Equal(t, `Refund 59.00 EUR on order O-20931 (Desk lamp "Aurora", 59.00 EUR, shipped, tracking stalled 6 days) of customer C-100; `+
		"0.00 EUR refunded before. Reason: lost parcel", details)
}
