package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/store/storetest"
)

func day(offset int) string { return time.Now().UTC().AddDate(0, 0, offset).Format(time.DateOnly) }

func TestLeaveFacts(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	ctx := context.Background()

	f, err := s.LeaveFacts(ctx, LeaveFactsRequest{EmployeeID: "E-101", Type: "annual", Start: day(41), End: day(43)})
	require.NoError(t, err)
	assert.Equal(t, "Lena Fischer", f.Employee.Name)
	assert.Equal(t, "E-100", f.Employee.ManagerID)
	assert.Equal(t, "E-CEO", f.SecondManagerID)
	assert.Equal(t, "18", f.Balance.String())
	require.Len(t, f.TeamLeave, 1, "Aisha's approved leave overlaps")
	assert.Equal(t, "Aisha Khan", f.TeamLeave[0].EmployeeName)
	assert.Empty(t, f.Blackouts)

	f, err = s.LeaveFacts(ctx, LeaveFactsRequest{EmployeeID: "E-103", Type: "annual", Start: day(72), End: day(80)})
	require.NoError(t, err)
	require.Len(t, f.Blackouts, 1)
	assert.Equal(t, "quarter-end close and release freeze", f.Blackouts[0].Reason)
	assert.Empty(t, f.TeamLeave, "one's own leave is not a team conflict")

	_, err = s.LeaveFacts(ctx, LeaveFactsRequest{EmployeeID: "E-999", Type: "annual", Start: day(1), End: day(2)})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	assert.Equal(t, ErrNotFound, appErr.Type())
	assert.Equal(t, "employee E-999 is not in the HR store; check the employee id", appErr.Message())
}

func TestRecordLeaveOnce(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	ctx := context.Background()
	o := LeaveOutcome{IdempotencyKey: "leave-1", EmployeeID: "E-101", Type: "annual", Start: day(30), End: day(34),
		Days: 5, Approved: true, DecidedBy: "E-100", WorkflowID: "leave-1"}
	rec, err := s.RecordLeave(ctx, o)
	require.NoError(t, err)
	require.NotNil(t, rec.BalanceAfter)
	assert.Equal(t, "13", rec.BalanceAfter.String())

	again, err := s.RecordLeave(ctx, o)
	require.NoError(t, err, "a retried record succeeds")
	assert.Equal(t, "13", again.BalanceAfter.String(), "and takes the days once")
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM leave_requests WHERE idempotency_key = 'leave-1'`))
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM outbox WHERE workflow_id = 'leave-1'`))

	rejected := LeaveOutcome{IdempotencyKey: "leave-2", EmployeeID: "E-102", Type: "annual", Start: day(30), End: day(31),
		Days: 2, Approved: false, DecidedBy: "E-100", Comment: "release week", WorkflowID: "leave-2"}
	rec, err = s.RecordLeave(ctx, rejected)
	require.NoError(t, err)
	assert.Nil(t, rec.BalanceAfter)
	assert.Equal(t, 0, storetest.Int(t, s.Records, `SELECT count(*) FROM leave_requests WHERE idempotency_key = 'leave-2'`), "a rejection is not on the calendar")
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM outbox WHERE workflow_id = 'leave-2' AND body LIKE '%rejected by E-100. release week'`))
	assert.Equal(t, 4, storetest.Int(t, s.Records, `SELECT half_days FROM leave_balances WHERE employee_id = 'E-102' AND leave_type = 'annual'`), "2 days, untouched")

	half, err := s.LeaveFacts(ctx, LeaveFactsRequest{EmployeeID: "E-202", Type: "annual", Start: day(30), End: day(31)})
	require.NoError(t, err)
	assert.Equal(t, "20.5", half.Balance.String(), "balances keep half days exactly")
}
