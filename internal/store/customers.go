package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/internal/money"
)

// Customer is a customer record.
type Customer struct {
	ID    string
	Name  string
	Email string
	Tier  string
	Since string
}

// CustomerKey is what a customer is looked up by.
type CustomerKey string

// The keys a customer is found by; email and name ignore case.
const (
	CustomerByID    CustomerKey = "id"
	CustomerByEmail CustomerKey = "email"
	CustomerByName  CustomerKey = "name"
)

var customerWhere = map[CustomerKey]string{
	CustomerByID:    `id = ?`,
	CustomerByEmail: `lower(email) = lower(?)`,
	CustomerByName:  `lower(trim(name)) = lower(trim(?))`,
}

// Customers returns up to limit customers whose key is value.
func (s *Store) Customers(ctx context.Context, key CustomerKey, value string, limit int) ([]Customer, error) {
	where, ok := customerWhere[key]
	if !ok {
		return nil, fmt.Errorf("customers are found by id, email or name, not by %q", key)
	}
	var found []Customer
	err := s.conn().query(ctx, `SELECT id, name, email, tier, since FROM customers WHERE `+where+` ORDER BY id LIMIT ?`,
		strings.TrimSpace(value), limit).each(func(r *sql.Rows) error {
		var c Customer
		err := r.Scan(&c.ID, &c.Name, &c.Email, &c.Tier, &c.Since)
		found = append(found, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up customer by %s: %w", key, err)
	}
	return found, nil
}

// Order is an order with what was refunded of it.
type Order struct {
	ID, Customer, Item, Currency, Status, OrderedAt string
	Amount, Refunded                                decimal.Decimal
}

// Order reads an order; ErrNotFound when there is none.
func (s *Store) Order(ctx context.Context, id string) (Order, error) {
	return s.order(ctx, s.conn(), id)
}

func (s *Store) order(ctx context.Context, c conn, id string) (Order, error) {
	o := Order{ID: id}
	var amount, refunded int64
	err := c.row(ctx, `SELECT customer_id, item, amount_minor, currency, status, ordered_at,
		(SELECT coalesce(sum(amount_minor), 0) FROM refunds WHERE order_id = orders.id) FROM orders WHERE id = ?`, id).
		Scan(&o.Customer, &o.Item, &amount, &o.Currency, &o.Status, &o.OrderedAt, &refunded)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", id, ErrNotFound)
	} else if err != nil {
		return o, fmt.Errorf("look up order %s: %w", id, err)
	}
	o.Amount, o.Refunded = money.FromMinor(amount, o.Currency), money.FromMinor(refunded, o.Currency)
	return o, nil
}

// Orders returns a customer's latest orders, newest first.
func (s *Store) Orders(ctx context.Context, customerID string, limit int) ([]Order, error) {
	var orders []Order
	err := s.conn().query(ctx, `SELECT id, customer_id, item, amount_minor, currency, status, ordered_at,
		(SELECT coalesce(sum(amount_minor), 0) FROM refunds WHERE order_id = orders.id)
		FROM orders WHERE customer_id = ? ORDER BY ordered_at DESC LIMIT ?`, strings.TrimSpace(customerID), limit).each(func(r *sql.Rows) error {
		var o Order
		var amount, refunded int64
		if err := r.Scan(&o.ID, &o.Customer, &o.Item, &amount, &o.Currency, &o.Status, &o.OrderedAt, &refunded); err != nil {
			return err
		}
		o.Amount, o.Refunded = money.FromMinor(amount, o.Currency), money.FromMinor(refunded, o.Currency)
		orders = append(orders, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list orders of %s: %w", customerID, err)
	}
	return orders, nil
}

// Refund asks for one refund on an order.
type Refund struct {
	IdempotencyKey string
	OrderID        string
	Amount         decimal.Decimal
	Reason         string
	ApprovedBy     string
}

// RefundOutcome is what a refund request did.
type RefundOutcome struct {
	Issued  bool            // this call wrote the refund
	Already bool            // a refund under the key was issued before
	Amount  decimal.Decimal // the refund's amount (the earlier one when Already)
	Order   Order           // the order before this refund
	Refused string          // why nothing was refunded, when neither Issued nor Already
}

// IssueRefund refunds part of an order once per idempotency key, in one
// transaction that holds the order: the refunds of an order never add up to
// more than it cost, however many workers refund it at once. An unknown
// order is ErrNotFound.
func (s *Store) IssueRefund(ctx context.Context, r Refund) (RefundOutcome, error) {
	var out RefundOutcome
	err := s.inTx(ctx, func(c conn) error {
		// Hold the order first; the read after it then sees every refund
		// committed before the hold (on PostgreSQL each statement reads as
		// of its own start).
		if c.postgres {
			if _, err := c.exec(ctx, `SELECT id FROM orders WHERE id = ? FOR UPDATE`, r.OrderID); err != nil {
				return fmt.Errorf("hold order %s: %w", r.OrderID, err)
			}
		}
		o, err := s.order(ctx, c, r.OrderID)
		if err != nil {
			return err
		}
		out.Order = o
		var existing int64
		err = c.row(ctx, `SELECT amount_minor FROM refunds WHERE idempotency_key = ?`, r.IdempotencyKey).Scan(&existing)
		if err == nil {
			out.Already, out.Amount = true, money.FromMinor(existing, o.Currency)
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up refund %s: %w", r.IdempotencyKey, err)
		}
		left := o.Amount.Sub(o.Refunded)
		minor, merr := money.ToMinor(r.Amount, o.Currency)
		switch {
		case merr != nil:
			out.Refused = merr.Error()
			return nil
		case !r.Amount.IsPositive() || r.Amount.GreaterThan(left):
			out.Refused = fmt.Sprintf("order %s has %s left to refund", r.OrderID, money.Format(left, o.Currency))
			return nil
		}
		if _, err := c.exec(ctx, `INSERT INTO refunds (idempotency_key, order_id, amount_minor, reason, approved_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, r.IdempotencyKey, r.OrderID, minor, r.Reason, r.ApprovedBy, s.stamp()); err != nil {
			return fmt.Errorf("write refund %s: %w", r.IdempotencyKey, err)
		}
		out.Issued, out.Amount = true, r.Amount
		return nil
	})
	return out, err
}
