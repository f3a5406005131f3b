-- +goose Up
-- Personal data replaced by placeholders before text reached a model: one
-- row per value per run, so a value keeps its placeholder for the whole run.
-- The mapping lives here, never in workflow history.
CREATE TABLE redactions (
    scope       TEXT NOT NULL, -- the workflow id the text belonged to
    placeholder TEXT NOT NULL, -- such as [EMAIL_1]
    kind        TEXT NOT NULL, -- such as EMAIL
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, placeholder),
    UNIQUE (scope, value)
);

-- When an agent run began, so the data policy's retention can age its
-- transcript out.
ALTER TABLE agent_runs ADD COLUMN created_at TEXT;
UPDATE agent_runs SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL;
