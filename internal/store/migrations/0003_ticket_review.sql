-- +goose Up
-- Human review of drafted replies: who reviewed, and whether the reply went out.
ALTER TABLE tickets ADD COLUMN reviewed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN reply_sent INTEGER NOT NULL DEFAULT 0;
