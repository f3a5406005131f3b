package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

type leaveLine struct {
	WorkflowID string                     `json:"workflowId"`
	Pending    *workflows.PendingDecision `json:"pending"`
	Result     *workflows.LeaveResult     `json:"result"`
	Error      string                     `json:"error"`
}

// TestLeaveApprovedByTheManagerThroughTheStarter requests leave within
// policy, has the manager approve it with the starter, and checks that the
// balance went down once and the employee was notified.
func TestLeaveApprovedByTheManagerThroughTheStarter(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	code, stdout, stderr := td.starter(t, "leave", "-o", "json", filepath.Join("testdata", "leave", "within-policy.json"))
	require.Equal(t, 0, code, stderr)
	l := jsonLines[leaveLine](t, stdout)[0]
	require.Empty(t, l.Error)
	require.NotNil(t, l.Pending, "the manager decides")
	assert.Equal(t, []string{"E-100"}, l.Pending.Approvers)

	code, stdout, stderr = td.starter(t, "approve", l.WorkflowID, "--by", "E-100", "--reason", "enjoy", "--wait", "-o", "json")
	require.Equal(t, 0, code, stderr)
	done := jsonLines[struct {
		Result workflows.LeaveResult `json:"result"`
	}](t, stdout)[0].Result
	assert.True(t, done.Approved)
	require.NotNil(t, done.Record.BalanceAfter)

	if dir := os.Getenv("TANDEM_RECORD_HISTORY"); dir != "" {
		recordHistory(t, td.servers.Client(t), l.WorkflowID, "", filepath.Join(dir, "leave-approved.json"))
	}
	var halfDays int
	storetest.Scan(t, td.db, `SELECT half_days FROM leave_balances WHERE employee_id = 'E-101' AND leave_type = 'annual'`, nil, &halfDays)
	assert.Equal(t, 2*(18-done.Days), halfDays, "whole days taken, in half days")
	assert.Equal(t, fmt.Sprint(18-done.Days), done.Record.BalanceAfter.String())
	var notes int
	storetest.Scan(t, td.db, `SELECT count(*) FROM outbox WHERE workflow_id = ? AND recipients = 'E-101'`, []any{l.WorkflowID}, &notes)
	assert.Equal(t, 1, notes)
}

// TestLeaveBadRequests sends requests the workflow must refuse in one
// sentence, with nothing written.
func TestLeaveBadRequests(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	refused := map[string]string{
		`{"employeeId":"E-101","type":"annual","start":"+10d","end":"+5d","reason":"x"}`: "the leave ends (",
		`{"employeeId":"E-101","type":"annual","start":"2020-01-06","end":"2020-01-07"}`: "the leave starts in the past (2020-01-06)",
	}
	for input, want := range refused {
		code, stdout, stderr := td.starterWithStdin(t, input, "leave", "-")
		assert.Equal(t, 2, code, "refused before a run starts: %s", input)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, "starter: leave request file stdin: "+want, input)
	}
	code, stdout, _ := td.starterWithStdin(t, `{"employeeId":"E-999","type":"annual","start":"+30d","end":"+34d","reason":"x"}`, "leave", "-")
	assert.Equal(t, 1, code, "the run fails")
	assert.Contains(t, stdout, "employee E-999 is not in the HR store; check the employee id")
	var written int
	storetest.Scan(t, td.db, `SELECT count(*) FROM outbox`, nil, &written)
	assert.Zero(t, written)
}
