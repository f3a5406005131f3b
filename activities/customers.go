package activities

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/tandemhq/tandem/internal/store"
)

// CustomerQuery is what is known of a customer who wrote in: any of their
// id, the address they wrote from, and the name they gave.
type CustomerQuery struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// CustomerContact is where a reply to a customer goes. Email is empty when
// there is no deliverable address.
type CustomerContact struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	OnFile    bool   `json:"onFile"`    // the address is the customer record's
	MatchedBy string `json:"matchedBy"` // id, email, name, sender, or none
}

// Recipient is the contact as a person reads it in an approval: the address,
// and whether it is the one on file.
func (c CustomerContact) Recipient() string {
	switch {
	case c.Email == "":
		return "no deliverable address for " + c.Name
	case c.OnFile:
		return fmt.Sprintf("%s <%s> (on file for customer %s)", c.Name, c.Email, c.ID)
	}
	return fmt.Sprintf("%s <%s> (the address the ticket came from; not on file)", c.Name, c.Email)
}

// ResolveCustomer finds where a reply to a customer goes, the same way for
// every workflow and tool: the customer record by id, then by the address
// they wrote from, then by a name that matches exactly one customer; failing
// those, the address they wrote from, if it is one. A name alone never
// becomes an address.
func (s *Store) ResolveCustomer(ctx context.Context, q CustomerQuery) (CustomerContact, error) {
	c, err := s.resolveCustomer(ctx, q)
	if err != nil {
		return c, err
	}
	return c, s.Records.RememberNames(ctx, runScope(ctx), q.Name, c.Name)
}

func (s *Store) resolveCustomer(ctx context.Context, q CustomerQuery) (CustomerContact, error) {
	for _, l := range []struct {
		by    store.CustomerKey
		value string
	}{{store.CustomerByID, q.ID}, {store.CustomerByEmail, q.Email}, {store.CustomerByName, q.Name}} {
		if strings.TrimSpace(l.value) == "" {
			continue
		}
		found, err := s.Records.Customers(ctx, l.by, l.value, 2)
		if err != nil {
			return CustomerContact{}, err
		}
		if len(found) == 1 && deliverable(found[0].Email) {
			return CustomerContact{ID: found[0].ID, Name: found[0].Name, Email: found[0].Email, OnFile: true, MatchedBy: string(l.by)}, nil
		}
	}
	name := strings.TrimSpace(q.Name)
	if deliverable(q.Email) {
		return CustomerContact{Name: name, Email: strings.TrimSpace(q.Email), MatchedBy: "sender"}, nil
	}
	return CustomerContact{Name: name, MatchedBy: "none"}, nil
}

// deliverable reports whether s is a bare email address.
func deliverable(s string) bool {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	return err == nil && a.Address == strings.TrimSpace(s) && strings.Contains(a.Address, "@")
}

// errNoCustomer is a tool call for a customer id that does not exist.
var errNoCustomer = errors.New("no such customer")

// contactFor is the contact on file for a customer id.
func (s *Store) contactFor(ctx context.Context, id string) (CustomerContact, error) {
	c, err := s.ResolveCustomer(ctx, CustomerQuery{ID: id})
	if err != nil {
		return c, err
	}
	if c.MatchedBy != "id" {
		return c, errNoCustomer
	}
	return c, nil
}
