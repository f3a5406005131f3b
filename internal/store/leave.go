package store

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
// requested days overlap. An unknown employee is ErrNotFound.
func (s *Store) LeaveFacts(ctx context.Context, req LeaveFactsRequest) (LeaveFacts, error) {
	var f LeaveFacts
	c := s.conn()
	var manager sql.NullString
	err := c.row(ctx, `SELECT id, name, team, role, manager_id FROM employees WHERE id = ?`, req.EmployeeID).
		Scan(&f.Employee.ID, &f.Employee.Name, &f.Employee.Team, &f.Employee.Role, &manager)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("employee %s: %w", req.EmployeeID, ErrNotFound)
	} else if err != nil {
		return f, fmt.Errorf("look up employee %s: %w", req.EmployeeID, err)
	}
	f.Employee.ManagerID = manager.String
	if f.Employee.ManagerID != "" {
		var second sql.NullString
		err := c.row(ctx, `SELECT manager_id FROM employees WHERE id = ?`, f.Employee.ManagerID).Scan(&second)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return f, fmt.Errorf("look up the manager of %s: %w", f.Employee.ManagerID, err)
		}
		f.SecondManagerID = second.String
	}

	var halfDays int64
	err = c.row(ctx, `SELECT half_days FROM leave_balances WHERE employee_id = ? AND leave_type = ?`, req.EmployeeID, req.Type).Scan(&halfDays)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("look up the %s balance of %s: %w", req.Type, req.EmployeeID, err)
	}
	f.Balance = Days(halfDays)

	err = c.query(ctx, `SELECT start_date, end_date, reason FROM leave_blackouts
		WHERE start_date <= ? AND end_date >= ? ORDER BY start_date`, req.End, req.Start).each(func(r *sql.Rows) error {
		var b Blackout
		err := r.Scan(&b.Start, &b.End, &b.Reason)
		f.Blackouts = append(f.Blackouts, b)
		return err
	})
	if err != nil {
		return f, fmt.Errorf("look up blackouts: %w", err)
	}
	err = c.query(ctx, `SELECT e.name, l.start_date, l.end_date FROM leave_requests l JOIN employees e ON e.id = l.employee_id
		WHERE l.status = 'approved' AND e.team = ? AND e.id != ? AND l.start_date <= ? AND l.end_date >= ? ORDER BY l.start_date`,
		f.Employee.Team, req.EmployeeID, req.End, req.Start).each(func(r *sql.Rows) error {
		var l TeamLeave
		err := r.Scan(&l.EmployeeName, &l.Start, &l.End)
		f.TeamLeave = append(f.TeamLeave, l)
		return err
	})
	if err != nil {
		return f, fmt.Errorf("look up team leave: %w", err)
	}
	return f, nil
}

// Days is a number of half days, in days.
func Days(halfDays int64) decimal.Decimal { return decimal.New(halfDays*5, -1) }

// LeaveEntry is an approved leave to put on the calendar.
type LeaveEntry struct {
	IdempotencyKey string
	EmployeeID     string
	Type           string
	Start, End     string
	Days           int
	DecidedBy      string
	// UsesBalance: the days come off the employee's balance of Type.
	UsesBalance bool
}

// RecordLeave writes a decided leave request and its notification in one
// transaction, once per idempotency key: approved leave (entry non-nil)
// goes on the calendar and, once, off the balance. It returns the balance
// after, when the leave uses one.
func (s *Store) RecordLeave(ctx context.Context, entry *LeaveEntry, note Notification) (*decimal.Decimal, error) {
	var after *decimal.Decimal
	err := s.inTx(ctx, func(c conn) error {
		if entry != nil {
			e := *entry
			res, err := c.exec(ctx, `INSERT INTO leave_requests (idempotency_key, employee_id, leave_type, start_date, end_date, half_days, status, decided_by)
				VALUES (?, ?, ?, ?, ?, ?, 'approved', ?) ON CONFLICT (idempotency_key) DO NOTHING`,
				e.IdempotencyKey, e.EmployeeID, e.Type, e.Start, e.End, 2*e.Days, e.DecidedBy)
			if err != nil {
				return fmt.Errorf("record approved leave %s: %w", e.IdempotencyKey, err)
			}
			if e.UsesBalance {
				if n, _ := res.RowsAffected(); n == 1 {
					if _, err := c.exec(ctx, `UPDATE leave_balances SET half_days = half_days - ? WHERE employee_id = ? AND leave_type = ?`,
						2*e.Days, e.EmployeeID, e.Type); err != nil {
						return fmt.Errorf("update the %s balance of %s: %w", e.Type, e.EmployeeID, err)
					}
				}
				var halfDays int64
				if err := c.row(ctx, `SELECT half_days FROM leave_balances WHERE employee_id = ? AND leave_type = ?`,
					e.EmployeeID, e.Type).Scan(&halfDays); err == nil {
					left := Days(halfDays)
					after = &left
				}
			}
		}
		return s.notify(ctx, c, note)
	})
	return after, err
}
