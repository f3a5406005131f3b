package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"text/template"
	"time"
)

// Seed loads sample data from the SQL template at path. The template's
// {{day N}}, {{at D H M}} and {{ago N}} are dates and times relative to
// the store's clock, so one seed file serves SQLite and PostgreSQL and its
// records stay recent. Seed files ignore rows already there, so seeding
// twice changes nothing.
func (s *Store) Seed(ctx context.Context, path string) error {
	body, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the seed file %s: %w", path, err)
	}
	now := s.Clock()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	quote := func(t time.Time, layout string) string { return "'" + t.Format(layout) + "'" }
	tmpl, err := template.New(path).Funcs(template.FuncMap{
		"day": func(n int) string { return quote(today.AddDate(0, 0, n), time.DateOnly) },
		"at": func(d, h, m int) string {
			return quote(today.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute), timeFormat)
		},
		"ago": func(n int) string { return quote(now.AddDate(0, 0, -n), time.RFC3339) },
	}).Parse(string(body))
	if err != nil {
		return fmt.Errorf("read the seed file %s: %w", path, err)
	}
	var sql bytes.Buffer
	if err := tmpl.Execute(&sql, nil); err != nil {
		return fmt.Errorf("render the seed file %s: %w", path, err)
	}
	if _, err := s.db.ExecContext(ctx, sql.String()); err != nil {
		return fmt.Errorf("seed the business store from %s: %w", path, err)
	}
	return nil
}
