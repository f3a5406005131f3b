-- +goose Up
-- What sandboxed runs would have done: one row per side effect they skipped.
CREATE TABLE sandbox_effects (
    idempotency_key TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    effect          TEXT NOT NULL, -- the side effect's input, as JSON
    workflow_id     TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
