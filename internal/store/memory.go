package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Memory is one fact an agent remembered about a subject.
type Memory struct {
	Key     string // the run and step that remembered it
	Subject string
	Fact    string
	RunKey  string
	Step    int
	At      string // when, as the store writes times
}

// Remember keeps a fact about a subject, once per key.
func (s *Store) Remember(ctx context.Context, m Memory) error {
	if _, err := s.conn().exec(ctx, `INSERT INTO agent_memory (memory_key, subject, fact, run_key, step, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (memory_key) DO NOTHING`, m.Key, subjectKey(m.Subject), m.Fact, m.RunKey, m.Step, s.stamp()); err != nil {
		return fmt.Errorf("remember a fact about %s: %w", m.Subject, err)
	}
	return nil
}

// Recall returns the latest facts about a subject, newest first.
func (s *Store) Recall(ctx context.Context, subject string, limit int) ([]Memory, error) {
	var out []Memory
	err := s.conn().query(ctx, `SELECT memory_key, subject, fact, run_key, step, created_at FROM agent_memory
		WHERE subject = ? ORDER BY created_at DESC, step DESC LIMIT ?`, subjectKey(subject), limit).each(func(rows *sql.Rows) error {
		var m Memory
		if err := rows.Scan(&m.Key, &m.Subject, &m.Fact, &m.RunKey, &m.Step, &m.At); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recall facts about %s: %w", subject, err)
	}
	return out, nil
}

// PurgeMemory deletes facts older than keep; a keep of 0 keeps them all.
func (s *Store) PurgeMemory(ctx context.Context, keep time.Duration, now time.Time) (int64, error) {
	if keep <= 0 {
		return 0, nil
	}
	cutoff := now.UTC().Add(-keep).Format(timeFormat)
	res, err := s.conn().exec(ctx, `DELETE FROM agent_memory WHERE created_at < ?`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete remembered facts older than %s: %w", cutoff, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func subjectKey(subject string) string { return strings.ToLower(strings.TrimSpace(subject)) }
