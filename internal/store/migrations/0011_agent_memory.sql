-- +goose Up
-- What agents remember across runs, by subject (a customer, a campaign):
-- one fact per run and step, already redacted, kept for the data policy's
-- retention.memory.
CREATE TABLE agent_memory (
    memory_key TEXT PRIMARY KEY, -- the run and step that remembered it
    subject    TEXT NOT NULL,    -- lower case
    fact       TEXT NOT NULL,
    run_key    TEXT NOT NULL,
    step       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX agent_memory_subject ON agent_memory (subject, created_at);
