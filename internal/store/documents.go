package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SaveDocument stores a document under id, once, so that workflows carry
// the reference instead of the text.
func (s *Store) SaveDocument(ctx context.Context, id, kind, content string) error {
	_, err := s.conn().exec(ctx, `INSERT INTO documents (id, kind, content, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, id, kind, content, s.stamp())
	if err != nil {
		return fmt.Errorf("store document %s: %w", id, err)
	}
	return nil
}

// LoadDocument returns the text of a stored document; ErrNotFound when
// there is none.
func (s *Store) LoadDocument(ctx context.Context, id string) (string, error) {
	var content string
	err := s.conn().row(ctx, `SELECT content FROM documents WHERE id = ?`, id).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("document %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("load document %s: %w", id, err)
	}
	return content, nil
}

// SaveArtifact keeps a large tool output under ref, once.
func (s *Store) SaveArtifact(ctx context.Context, ref, content string) error {
	if _, err := s.conn().exec(ctx, `INSERT INTO artifacts (ref, content) VALUES (?, ?) ON CONFLICT (ref) DO NOTHING`, ref, content); err != nil {
		return fmt.Errorf("store artifact %s: %w", ref, err)
	}
	return nil
}

// RecordSandboxEffect records, once per kind and key, a side effect that a
// sandboxed run skipped; effect is its input as JSON.
func (s *Store) RecordSandboxEffect(ctx context.Context, kind, key, workflowID string, effect []byte) error {
	_, err := s.conn().exec(ctx, `INSERT INTO sandbox_effects (idempotency_key, kind, effect, workflow_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`, kind+":"+key, kind, string(effect), workflowID, s.stamp())
	if err != nil {
		return fmt.Errorf("record the sandboxed %s %s: %w", kind, key, err)
	}
	return nil
}
