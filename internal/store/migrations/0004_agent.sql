-- +goose Up
-- Customer service records the agent's tools read and write.
CREATE TABLE customers (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    email   TEXT NOT NULL,
    tier    TEXT NOT NULL,
    since   TEXT NOT NULL
);

CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    item        TEXT NOT NULL,
    amount      REAL NOT NULL,
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL,
    ordered_at  TEXT NOT NULL
);

-- One refund per idempotency key (the agent run and step that issued it).
CREATE TABLE refunds (
    idempotency_key TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders(id),
    amount          REAL NOT NULL,
    reason          TEXT NOT NULL,
    approved_by     TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- An agent run's fixed frame: goal, instructions and tool catalogue, and
-- the model-written summary of turns up to summary_upto.
CREATE TABLE agent_runs (
    run_key      TEXT PRIMARY KEY,
    goal         TEXT NOT NULL,
    profile      TEXT NOT NULL,
    frame        TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    summary_upto INTEGER NOT NULL DEFAULT 0
);

-- The full transcript of every agent run, one row per turn.
CREATE TABLE agent_turns (
    run_key     TEXT NOT NULL,
    step        INTEGER NOT NULL,
    turn        TEXT NOT NULL, -- the turn as JSON
    PRIMARY KEY (run_key, step)
);

-- Large tool outputs, kept here and passed by reference.
CREATE TABLE artifacts (
    ref     TEXT PRIMARY KEY,
    content TEXT NOT NULL
);
