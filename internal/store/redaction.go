package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// RememberNames records names a run deals with, so that the run's model
// calls can redact them.
func (s *Store) RememberNames(ctx context.Context, scope string, names ...string) error {
	for _, n := range names {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if _, err := s.conn().exec(ctx, `INSERT INTO redaction_names (scope, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			scope, n, s.stamp()); err != nil {
			return fmt.Errorf("remember a customer name for redaction: %w", err)
		}
	}
	return nil
}

// RunNames are the names remembered for a run.
func (s *Store) RunNames(ctx context.Context, scope string) ([]string, error) {
	var names []string
	err := s.conn().query(ctx, `SELECT name FROM redaction_names WHERE scope = ? ORDER BY name`, scope).each(func(r *sql.Rows) error {
		var n string
		err := r.Scan(&n)
		names = append(names, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the names to redact: %w", err)
	}
	return names, nil
}

// placeholderAttempts bounds the retries of a placeholder that another
// worker took at the same moment for another value.
const placeholderAttempts = 5

// Placeholder returns the placeholder of value in scope, such as [EMAIL_1],
// assigning the next free one of its kind the first time; concurrent calls,
// from any number of workers, agree.
func (s *Store) Placeholder(ctx context.Context, scope, kind, value string) (string, error) {
	c := s.conn()
	for range placeholderAttempts {
		_, err := c.exec(ctx, `INSERT INTO redactions (scope, placeholder, kind, value, created_at)
			SELECT ?, '[' || ? || '_' || (count(*) + 1) || ']', ?, ?, ? FROM redactions WHERE scope = ? AND kind = ?
			ON CONFLICT DO NOTHING`, scope, kind, kind, value, s.stamp(), scope, kind)
		if err != nil {
			return "", fmt.Errorf("record a %s placeholder: %w", kind, err)
		}
		var ph string
		err = c.row(ctx, `SELECT placeholder FROM redactions WHERE scope = ? AND value = ?`, scope, value).Scan(&ph)
		if err == nil {
			return ph, nil
		} else if err != sql.ErrNoRows {
			return "", fmt.Errorf("read the %s placeholder: %w", kind, err)
		}
	}
	return "", fmt.Errorf("record a %s placeholder: other writers kept taking the next one", kind)
}
