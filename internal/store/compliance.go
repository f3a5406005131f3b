package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/internal/money"
)

// Expense is one approved expense record.
type Expense struct {
	ID          string          `json:"id"`
	RequesterID string          `json:"requesterId"`
	ApproverID  string          `json:"approverId"`
	Merchant    string          `json:"merchant"`
	Category    string          `json:"category"`
	Amount      decimal.Decimal `json:"amount"`
	Currency    string          `json:"currency"`
	ApprovedAt  time.Time       `json:"approvedAt"`
}

// Access is one use of a resource by an employee.
type Access struct {
	ID         string    `json:"id"`
	EmployeeID string    `json:"employeeId"`
	Role       string    `json:"role"`
	Resource   string    `json:"resource"`
	Action     string    `json:"action"`
	AccessedAt time.Time `json:"accessedAt"`
	Allowed    bool      `json:"allowed"` // the employee's role grants the resource
}

// ComplianceRecords are the records of one period.
type ComplianceRecords struct {
	Expenses []Expense `json:"expenses"`
	Access   []Access  `json:"access"`
}

// Period is a time range, From included, To excluded.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func (p Period) String() string {
	return p.From.Format("2006-01-02 15:04") + " to " + p.To.Format("2006-01-02 15:04") + " UTC"
}

// ComplianceRecords loads the expense and access records of a period.
func (s *Store) ComplianceRecords(ctx context.Context, p Period) (ComplianceRecords, error) {
	var recs ComplianceRecords
	c := s.conn()
	from, to := p.From.UTC().Format(timeFormat), p.To.UTC().Format(timeFormat)
	err := c.query(ctx, `SELECT id, requester_id, approver_id, merchant, category, amount_minor, currency, approved_at
		FROM expenses WHERE approved_at >= ? AND approved_at < ? ORDER BY approved_at, id`, from, to).each(func(r *sql.Rows) error {
		var e Expense
		var at string
		var minor int64
		if err := r.Scan(&e.ID, &e.RequesterID, &e.ApproverID, &e.Merchant, &e.Category, &minor, &e.Currency, &at); err != nil {
			return err
		}
		e.Amount = money.FromMinor(minor, e.Currency)
		e.ApprovedAt, _ = time.Parse(timeFormat, at)
		recs.Expenses = append(recs.Expenses, e)
		return nil
	})
	if err != nil {
		return recs, fmt.Errorf("load expenses of %s: %w", p, err)
	}
	err = c.query(ctx, `SELECT a.id, a.employee_id, coalesce(e.role, ''), a.resource, a.action, a.accessed_at,
		CASE WHEN EXISTS (SELECT 1 FROM role_permissions r WHERE r.role = e.role AND r.resource = a.resource) THEN 1 ELSE 0 END
		FROM access_records a LEFT JOIN employees e ON e.id = a.employee_id
		WHERE a.accessed_at >= ? AND a.accessed_at < ? ORDER BY a.accessed_at, a.id`, from, to).each(func(r *sql.Rows) error {
		var a Access
		var at string
		var allowed int
		if err := r.Scan(&a.ID, &a.EmployeeID, &a.Role, &a.Resource, &a.Action, &at, &allowed); err != nil {
			return err
		}
		a.AccessedAt, _ = time.Parse(timeFormat, at)
		a.Allowed = allowed == 1
		recs.Access = append(recs.Access, a)
		return nil
	})
	if err != nil {
		return recs, fmt.Errorf("load access records of %s: %w", p, err)
	}
	return recs, nil
}

// Report is a rendered report to keep.
type Report struct {
	ID          string
	Kind        string
	Period      Period
	Markdown    string
	JSON        string
	GeneratedAt time.Time
}

// SaveReport keeps a report once under its id.
func (s *Store) SaveReport(ctx context.Context, r Report) error {
	_, err := s.conn().exec(ctx, `INSERT INTO reports (idempotency_key, kind, period_from, period_to, markdown, json, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		r.ID, r.Kind, r.Period.From.Format(time.RFC3339), r.Period.To.Format(time.RFC3339), r.Markdown, r.JSON, r.GeneratedAt.Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("store report %s: %w", r.ID, err)
	}
	return nil
}
