package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/internal/store"
)

// LeaveFacts looks up the employee, their managers, balance, and what the
// requested days overlap.
func (s *Store) LeaveFacts(ctx context.Context, req LeaveFactsRequest) (LeaveFacts, error) {
	f, err := s.Records.LeaveFacts(ctx, req)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return f, recordNotFound("employee %s is not in the HR store; check the employee id", req.EmployeeID)
	case err != nil:
		return f, err
	case f.Employee.ManagerID == "":
		return f, recordNotFound("employee %s has no manager to decide the request; set one in the HR store", req.EmployeeID)
	}
	return f, nil
}

// LeaveOutcome is a decided leave request to record.
type LeaveOutcome struct {
	IdempotencyKey string `json:"idempotencyKey"`
	EmployeeID     string `json:"employeeId"`
	Type           string `json:"type"`
	Start          string `json:"start"`
	End            string `json:"end"`
	Days           int    `json:"days"`
	Approved       bool   `json:"approved"`
	DecidedBy      string `json:"decidedBy"`
	Comment        string `json:"comment"`
	WorkflowID     string `json:"workflowId"`
}

// LeaveRecord is what recording a decision changed.
type LeaveRecord struct {
	BalanceAfter *decimal.Decimal `json:"balanceAfter,omitempty"` // set when approved leave used a balance
	Notified     string           `json:"notified"`               // outbox key of the notification
	Sandbox      bool             `json:"sandbox,omitempty"`      // simulated: nothing was written
}

// RecordLeave records a decision in one transaction, once per idempotency
// key: on approval the leave goes on the calendar and the balance goes down;
// either way the employee is notified through the outbox.
func (s *Store) RecordLeave(ctx context.Context, o LeaveOutcome) (LeaveRecord, error) {
	rec := LeaveRecord{Notified: o.IdempotencyKey + "/notification"}
	if sim, err := s.simulated(ctx, "leave", o.IdempotencyKey, o.WorkflowID, o); sim {
		rec.Sandbox = true
		return rec, err
	}
	var entry *store.LeaveEntry
	verdict := "rejected"
	if o.Approved {
		verdict = "approved"
		entry = &store.LeaveEntry{IdempotencyKey: o.IdempotencyKey, EmployeeID: o.EmployeeID, Type: o.Type,
			Start: o.Start, End: o.End, Days: o.Days, DecidedBy: o.DecidedBy, UsesBalance: o.Type != "unpaid"}
	}
	body := fmt.Sprintf("Your %s leave from %s to %s (%d days) was %s by %s.", o.Type, o.Start, o.End, o.Days, verdict, o.DecidedBy)
	if o.Comment != "" {
		body += " " + o.Comment
	}
	after, err := s.Records.RecordLeave(ctx, entry, Notification{IdempotencyKey: rec.Notified, Recipients: []string{o.EmployeeID},
		Subject: "Leave request " + verdict, Body: body, WorkflowID: o.WorkflowID})
	rec.BalanceAfter = after
	return rec, err
}
