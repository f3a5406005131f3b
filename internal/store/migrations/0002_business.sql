-- +goose Up
-- The business records Tandem's AI-augmented workflows read and write.
-- Every table a workflow writes to has an idempotency key, so a retried
-- activity never writes twice.

-- Documents travel by reference: workflows carry the id, not the text.
CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE vendors (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    tax_id TEXT NOT NULL UNIQUE,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE purchase_orders (
    number    TEXT PRIMARY KEY,
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    amount    REAL NOT NULL,
    currency  TEXT NOT NULL
);

-- One row per posted invoice; a vendor's invoice number posts once.
CREATE TABLE ledger (
    idempotency_key TEXT PRIMARY KEY,
    vendor_id       TEXT NOT NULL,
    invoice_number  TEXT NOT NULL,
    amount          REAL NOT NULL,
    currency        TEXT NOT NULL,
    approved_by     TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    posted_at       TEXT NOT NULL,
    UNIQUE (vendor_id, invoice_number)
);

CREATE TABLE employees (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    team       TEXT NOT NULL,
    role       TEXT NOT NULL,
    manager_id TEXT REFERENCES employees(id)
);

CREATE TABLE leave_balances (
    employee_id TEXT NOT NULL REFERENCES employees(id),
    leave_type  TEXT NOT NULL,
    days        REAL NOT NULL,
    PRIMARY KEY (employee_id, leave_type)
);

CREATE TABLE leave_requests (
    idempotency_key TEXT PRIMARY KEY,
    employee_id     TEXT NOT NULL REFERENCES employees(id),
    leave_type      TEXT NOT NULL,
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    days            REAL NOT NULL,
    status          TEXT NOT NULL,
    decided_by      TEXT NOT NULL
);

CREATE TABLE leave_blackouts (
    start_date TEXT NOT NULL,
    end_date   TEXT NOT NULL,
    reason     TEXT NOT NULL
);

CREATE TABLE expenses (
    id           TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL,
    approver_id  TEXT NOT NULL,
    merchant     TEXT NOT NULL,
    category     TEXT NOT NULL,
    amount       REAL NOT NULL,
    currency     TEXT NOT NULL,
    approved_at  TEXT NOT NULL
);

CREATE TABLE access_records (
    id          TEXT PRIMARY KEY,
    employee_id TEXT NOT NULL,
    resource    TEXT NOT NULL,
    action      TEXT NOT NULL,
    accessed_at TEXT NOT NULL
);

-- Which resources each role may use.
CREATE TABLE role_permissions (
    role     TEXT NOT NULL,
    resource TEXT NOT NULL,
    PRIMARY KEY (role, resource)
);

CREATE TABLE reports (
    idempotency_key TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    period_from     TEXT NOT NULL,
    period_to       TEXT NOT NULL,
    markdown        TEXT NOT NULL,
    json            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE outbox (
    idempotency_key TEXT PRIMARY KEY,
    recipients      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at         TEXT
);
