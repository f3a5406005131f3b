-- +goose Up
-- Each call of an MCP server's tool, one row per agent run and step: it is
-- made once, and a retry after the worker stopped returns what the first
-- attempt got, or knows the outcome is unknown.
CREATE TABLE mcp_calls (
    call_key    TEXT PRIMARY KEY,  -- the run and step
    server      TEXT NOT NULL,
    tool        TEXT NOT NULL,
    args_digest TEXT NOT NULL,     -- sha256 of the arguments
    status      TEXT NOT NULL,     -- started, done
    result      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
