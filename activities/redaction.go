package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/tandemhq/tandem/internal/redact"
)

// Redaction replaces personal data with placeholders before text reaches
// the model, keeping the mapping in the business store, and puts the real
// values back into answers when the data policy allows.
type Redaction struct {
	Redactor *redact.Redactor
	Restore  bool // restore placeholders in the model's answers
	Store    *Store
	// Names redacts the names of the customers a run deals with (the data
	// policy's customer_name detector).
	Names bool
}

// redaction is the placeholder mapping of one model call.
type redaction struct {
	r        *Redaction
	redactor *redact.Redactor // the policy's detectors, with the run's names
	ctx      context.Context
	scope    string
	values   map[string]string // placeholder -> value, for restoring
	replaced int
}

// begin starts the redaction of one model call, scoped to the calling
// workflow run so that a value keeps its placeholder for the whole run.
func (r *Redaction) begin(ctx context.Context) *redaction {
	scope := runScope(ctx)
	x := &redaction{r: r, ctx: ctx, scope: scope, values: map[string]string{}}
	if r != nil {
		x.redactor = r.Redactor
		if r.Names {
			if names, err := r.Store.runNames(ctx, scope); err == nil && len(names) > 0 {
				x.redactor = r.Redactor.With(redact.Names(names))
			}
		}
	}
	return x
}

// RememberNames records names of customers a run deals with, so that the
// run's model calls redact them when the policy says so.
func (s *Store) RememberNames(ctx context.Context, scope string, names ...string) error {
	for _, n := range names {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO redaction_names (scope, name) VALUES (?, ?) ON CONFLICT DO NOTHING`, scope, n); err != nil {
			return fmt.Errorf("remember a customer name for redaction: %w", err)
		}
	}
	return nil
}

func (s *Store) runNames(ctx context.Context, scope string) ([]string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT name FROM redaction_names WHERE scope = ? ORDER BY name`, scope)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// runScope is the workflow id a store activity works for, or "direct".
func runScope(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).WorkflowExecution.ID
	}
	return "direct"
}

// text returns s with personal data replaced by placeholders.
func (x *redaction) text(s string) (string, error) {
	if x.r == nil || x.redactor == nil {
		return s, nil
	}
	out, n, err := x.redactor.Replace(s, func(kind, value string) (string, error) {
		ph, err := x.r.Store.Placeholder(x.ctx, x.scope, kind, value)
		if err == nil {
			x.values[ph] = value
		}
		return ph, err
	})
	x.replaced += n
	return out, err
}

// messages redacts every message.
func (x *redaction) messages(in []Message) ([]Message, error) {
	out := make([]Message, len(in))
	for i, m := range in {
		content, err := x.text(m.Content)
		if err != nil {
			return nil, err
		}
		out[i] = Message{Role: m.Role, Content: content}
	}
	return out, nil
}

// restoreText puts the real values back into a free-text answer.
func (x *redaction) restoreText(s string) string {
	if x.r == nil || !x.r.Restore {
		return s
	}
	return redact.Restore(s, x.values)
}

// restoreJSON puts the real values back into the strings of a JSON answer.
func (x *redaction) restoreJSON(s string) string {
	if x.r == nil || !x.r.Restore || len(x.values) == 0 {
		return s
	}
	escaped := make(map[string]string, len(x.values))
	for ph, v := range x.values {
		b, _ := json.Marshal(v)
		escaped[ph] = strings.TrimSuffix(strings.TrimPrefix(string(b), `"`), `"`)
	}
	return redact.Restore(s, escaped)
}

// Placeholder returns the placeholder of value in scope, assigning the next
// free one of its kind the first time; concurrent calls agree.
func (s *Store) Placeholder(ctx context.Context, scope, kind, value string) (string, error) {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO redactions (scope, placeholder, kind, value)
		SELECT ?1, '[' || ?2 || '_' || (count(*) + 1) || ']', ?2, ?3 FROM redactions WHERE scope = ?1 AND kind = ?2
		ON CONFLICT DO NOTHING`, scope, kind, value)
	if err != nil {
		return "", fmt.Errorf("record a %s placeholder: %w", kind, err)
	}
	var ph string
	if err := s.DB.QueryRowContext(ctx, `SELECT placeholder FROM redactions WHERE scope = ? AND value = ?`, scope, value).Scan(&ph); err != nil {
		return "", fmt.Errorf("read the %s placeholder: %w", kind, err)
	}
	return ph, nil
}
