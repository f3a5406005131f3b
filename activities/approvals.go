package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem/internal/money"
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
		o, err := t.Store.order(ctx, t.Store.DB, a.OrderID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Sprintf("Refund %s on order %s: there is no such order, so nothing would be refunded.", a.Amount, a.OrderID), nil
		} else if err != nil {
			return "", err
		}
		return fmt.Sprintf("Refund %s on order %s (%s, %s, %s) of customer %s; %s refunded before. Reason: %s",
			money.Format(a.Amount, o.Currency), a.OrderID, o.Item, money.Format(o.Amount, o.Currency), o.Status, o.Customer,
			money.Format(o.Refunded, o.Currency), strings.TrimSpace(a.Reason)), nil
	}
	return "", nil
}
