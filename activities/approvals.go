package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/store"
)

// messageDetails shows the approver of send_message where the message goes
// (the address on file, and whether it is the person the run is for) and
// its whole text.
func (t *Tools) messageDetails(ctx context.Context, call ToolCall, a SendMessageArgs) (string, error) {
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
}

// refundDetails shows the approver of issue_refund the order the refund
// comes from and what was refunded of it before.
func (t *Tools) refundDetails(ctx context.Context, _ ToolCall, a IssueRefundArgs) (string, error) {
	o, err := t.Store.Records.Order(ctx, a.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Sprintf("Refund %s on order %s: there is no such order, so nothing would be refunded.", a.Amount, a.OrderID), nil
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("Refund %s on order %s (%s, %s, %s) of customer %s; %s refunded before. Reason: %s",
		money.Format(a.Amount, o.Currency), a.OrderID, o.Item, money.Format(o.Amount, o.Currency), o.Status, o.Customer,
		money.Format(o.Refunded, o.Currency), strings.TrimSpace(a.Reason)), nil
}
