package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// Employee is an HR record.
type Employee struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Team      string `json:"team"`
	Role      string `json:"role"`
	ManagerID string `json:"managerId"`
}

// LeaveFactsRequest asks for what leave approval needs from the HR store.
type LeaveFactsRequest struct {
	EmployeeID string `json:"employeeId"`
	Type       string `json:"type"`
	Start      string `json:"start"`
	End        string `json:"end"`
}

// Blackout is a period in which no leave is granted.
type Blackout struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Reason string `json:"reason"`
}

// TeamLeave is a teammate's approved leave.
type TeamLeave struct {
	EmployeeName string `json:"employeeName"`
	Start        string `json:"start"`
	End          string `json:"end"`
}

// LeaveFacts is what the HR store knows about a request.
type LeaveFacts struct {
	Employee        Employee        `json:"employee"`
	SecondManagerID string          `json:"secondManagerId,omitempty"` // the manager's manager
	Balance         decimal.Decimal `json:"balance"`                   // days left of the requested type, in half days
	Blackouts       []Blackout      `json:"blackouts"`                 // blackouts the request overlaps
	TeamLeave       []TeamLeave     `json:"teamLeave"`                 // teammates' approved leave it overlaps
}

// LeaveFacts looks up the employee, their managers, balance, and what the
// requested days overlap.
func (s *Store) LeaveFacts(ctx context.Context, req LeaveFactsRequest) (LeaveFacts, error) {
	var f LeaveFacts
	var manager sql.NullString
	err := s.DB.QueryRowContext(ctx, `SELECT id, name, team, role, manager_id FROM employees WHERE id = ?`, req.EmployeeID).
		Scan(&f.Employee.ID, &f.Employee.Name, &f.Employee.Team, &f.Employee.Role, &manager)
	if errors.Is(err, sql.ErrNoRows) {
		return f, recordNotFound("employee %s is not in the HR store; check the employee id", req.EmployeeID)
	} else if err != nil {
		return f, fmt.Errorf("look up employee %s: %w", req.EmployeeID, err)
	}
	f.Employee.ManagerID = manager.String
	if f.Employee.ManagerID == "" {
		return f, recordNotFound("employee %s has no manager to decide the request; set one in the HR store", req.EmployeeID)
	}
	var second sql.NullString
	if err := s.DB.QueryRowContext(ctx, `SELECT manager_id FROM employees WHERE id = ?`, f.Employee.ManagerID).Scan(&second); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("look up the manager of %s: %w", f.Employee.ManagerID, err)
	}
	f.SecondManagerID = second.String

	var halfDays int64
	err = s.DB.QueryRowContext(ctx, `SELECT half_days FROM leave_balances WHERE employee_id = ? AND leave_type = ?`, req.EmployeeID, req.Type).Scan(&halfDays)
	f.Balance = days(halfDays)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("look up the %s balance of %s: %w", req.Type, req.EmployeeID, err)
	}

	rows, err := s.DB.QueryContext(ctx, `SELECT start_date, end_date, reason FROM leave_blackouts
		WHERE start_date <= ? AND end_date >= ? ORDER BY start_date`, req.End, req.Start)
	if err != nil {
		return f, fmt.Errorf("look up blackouts: %w", err)
	}
	for rows.Next() {
		var b Blackout
		if err := rows.Scan(&b.Start, &b.End, &b.Reason); err != nil {
			rows.Close()
			return f, err
		}
		f.Blackouts = append(f.Blackouts, b)
	}
	rows.Close()

	rows, err = s.DB.QueryContext(ctx, `SELECT e.name, l.start_date, l.end_date FROM leave_requests l JOIN employees e ON e.id = l.employee_id
		WHERE l.status = 'approved' AND e.team = ? AND e.id != ? AND l.start_date <= ? AND l.end_date >= ? ORDER BY l.start_date`,
		f.Employee.Team, req.EmployeeID, req.End, req.Start)
	if err != nil {
		return f, fmt.Errorf("look up team leave: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l TeamLeave
		if err := rows.Scan(&l.EmployeeName, &l.Start, &l.End); err != nil {
			return f, err
		}
		f.TeamLeave = append(f.TeamLeave, l)
	}
	return f, rows.Err()
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

// days is a number of half days, in days.
func days(halfDays int64) decimal.Decimal { return decimal.New(halfDays*5, -1) }

// RecordLeave records a decision in one transaction, once per idempotency
// key: on approval the leave goes on the calendar and the balance goes down;
// either way the employee is notified through the outbox.
func (s *Store) RecordLeave(ctx context.Context, o LeaveOutcome) (LeaveRecord, error) {
	rec := LeaveRecord{Notified: o.IdempotencyKey + "/notification"}
	if sim, err := s.simulated(ctx, "leave", o.IdempotencyKey, o.WorkflowID, o); sim {
		rec.Sandbox = true
		return rec, err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if o.Approved {
			res, err := tx.ExecContext(ctx, `INSERT INTO leave_requests (idempotency_key, employee_id, leave_type, start_date, end_date, half_days, status, decided_by)
				VALUES (?, ?, ?, ?, ?, ?, 'approved', ?) ON CONFLICT (idempotency_key) DO NOTHING`,
				o.IdempotencyKey, o.EmployeeID, o.Type, o.Start, o.End, 2*o.Days, o.DecidedBy)
			if err != nil {
				return fmt.Errorf("record approved leave %s: %w", o.IdempotencyKey, err)
			}
			if n, _ := res.RowsAffected(); n == 1 && o.Type != "unpaid" {
				if _, err := tx.ExecContext(ctx, `UPDATE leave_balances SET half_days = half_days - ? WHERE employee_id = ? AND leave_type = ?`,
					2*o.Days, o.EmployeeID, o.Type); err != nil {
					return fmt.Errorf("update the %s balance of %s: %w", o.Type, o.EmployeeID, err)
				}
			}
			if o.Type != "unpaid" {
				var after int64
				if err := tx.QueryRowContext(ctx, `SELECT half_days FROM leave_balances WHERE employee_id = ? AND leave_type = ?`,
					o.EmployeeID, o.Type).Scan(&after); err == nil {
					left := days(after)
					rec.BalanceAfter = &left
				}
			}
		}
		verdict := "rejected"
		if o.Approved {
			verdict = "approved"
		}
		body := fmt.Sprintf("Your %s leave from %s to %s (%d days) was %s by %s.", o.Type, o.Start, o.End, o.Days, verdict, o.DecidedBy)
		if o.Comment != "" {
			body += " " + o.Comment
		}
		return insertNotification(ctx, tx, Notification{IdempotencyKey: rec.Notified, Recipients: []string{o.EmployeeID},
			Subject: "Leave request " + verdict, Body: body, WorkflowID: o.WorkflowID})
	})
	return rec, err
}
