package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// ApprovalDetails is what a person sees of a tool call before allowing it,
// beyond its arguments: where a message goes and what it says in full, and
// what a refund takes from which order.
func (t *Tools) ApprovalDetails(ctx context.Context, call ToolCall) (string, error) {
	switch call.Name {
	case "send_message":
		var a SendMessageArgs
		if err := decodeArgs(call, &a); err != nil {
			return "", err
		}
		contact, err := t.Store.contactFor(ctx, a.CustomerID)
		to := contact.Recipient()
		switch {
		case errors.Is(err, errNoCustomer):
			to = fmt.Sprintf("nobody: there is no customer %s with an address on file, so nothing would be sent", a.CustomerID)
		case err != nil:
			return "", err
		case call.RequestedBy == "":
			to += "; who wrote in is not known to this run"
		case strings.EqualFold(call.RequestedBy, contact.ID) || strings.EqualFold(call.RequestedBy, contact.Email):
			to += "; the person who wrote in"
		default:
			to += fmt.Sprintf("; NOT the person who wrote in (%s)", call.RequestedBy)
		}
		return fmt.Sprintf("To: %s\nSubject: %s\n\n%s", to, a.Subject, a.Body), nil
	case "issue_refund":
		var a IssueRefundArgs
		if err := decodeArgs(call, &a); err != nil {
			return "", err
		}
		var customer, item, currency, status string
		var amount, refunded float64
		err := t.Store.DB.QueryRowContext(ctx, `SELECT customer_id, item, amount, currency, status,
			(SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = orders.id) FROM orders WHERE id = ?`, a.OrderID).
			Scan(&customer, &item, &amount, &currency, &status, &refunded)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Sprintf("Refund %.2f on order %s: there is no such order, so nothing would be refunded.", a.Amount, a.OrderID), nil
		} else if err != nil {
			return "", fmt.Errorf("look up order %s: %w", a.OrderID, err)
		}
		return fmt.Sprintf("Refund %.2f %s on order %s (%s, %.2f %s, %s) of customer %s; %.2f %s refunded before. Reason: %s",
			a.Amount, currency, a.OrderID, item, amount, currency, status, customer, refunded, currency, strings.TrimSpace(a.Reason)), nil
	}
	return "", nil
}
