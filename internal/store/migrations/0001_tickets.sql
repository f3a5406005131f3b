-- +goose Up
-- Routed support tickets: one row per ticket-routing run, keyed by the
-- workflow id so that a retried write never makes a second row.
CREATE TABLE tickets (
    idempotency_key TEXT PRIMARY KEY,
    workflow_id     TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    customer        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    priority        TEXT NOT NULL,
    sentiment       TEXT NOT NULL,
    language        TEXT NOT NULL,
    summary         TEXT NOT NULL,
    queue           TEXT NOT NULL,
    sla_minutes     INTEGER NOT NULL,
    draft_reply     TEXT NOT NULL,
    classified_by   TEXT NOT NULL,
    routed_at       TEXT NOT NULL
);
