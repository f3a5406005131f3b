-- +goose Up
-- The customers' names a run deals with: the data policy's customer_name
-- detector redacts them from that run's model calls. Kept like the
-- placeholder mapping, and aged out with it.
CREATE TABLE redaction_names (
    scope      TEXT NOT NULL, -- the workflow id
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (scope, name)
);
