-- +goose Up
-- Every amount is exact: orders, refunds and expenses keep whole minor units
-- of their currency, and leave balances and requests whole half days.

CREATE TABLE orders_exact (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers(id),
    item         TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,
    ordered_at   TEXT NOT NULL
);
INSERT INTO orders_exact SELECT id, customer_id, item,
    CAST(round(amount * CASE upper(currency) WHEN 'JPY' THEN 1 WHEN 'KRW' THEN 1 WHEN 'ISK' THEN 1
                                             WHEN 'KWD' THEN 1000 WHEN 'BHD' THEN 1000 WHEN 'JOD' THEN 1000
                                             WHEN 'OMR' THEN 1000 WHEN 'TND' THEN 1000 ELSE 100 END) AS BIGINT),
    currency, status, ordered_at FROM orders;

-- A refund is in its order's currency.
CREATE TABLE refunds_exact (
    idempotency_key TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders_exact(id),
    amount_minor    BIGINT NOT NULL,
    reason          TEXT NOT NULL,
    approved_by     TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO refunds_exact SELECT r.idempotency_key, r.order_id,
    CAST(round(r.amount * CASE upper(o.currency) WHEN 'JPY' THEN 1 WHEN 'KRW' THEN 1 WHEN 'ISK' THEN 1
                                                 WHEN 'KWD' THEN 1000 WHEN 'BHD' THEN 1000 WHEN 'JOD' THEN 1000
                                                 WHEN 'OMR' THEN 1000 WHEN 'TND' THEN 1000 ELSE 100 END) AS BIGINT),
    r.reason, r.approved_by, r.created_at FROM refunds r JOIN orders o ON o.id = r.order_id;
DROP TABLE refunds;
DROP TABLE orders;
ALTER TABLE orders_exact RENAME TO orders;
ALTER TABLE refunds_exact RENAME TO refunds;

CREATE TABLE expenses_exact (
    id           TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL,
    approver_id  TEXT NOT NULL,
    merchant     TEXT NOT NULL,
    category     TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    approved_at  TEXT NOT NULL
);
INSERT INTO expenses_exact SELECT id, requester_id, approver_id, merchant, category,
    CAST(round(amount * CASE upper(currency) WHEN 'JPY' THEN 1 WHEN 'KRW' THEN 1 WHEN 'ISK' THEN 1
                                             WHEN 'KWD' THEN 1000 WHEN 'BHD' THEN 1000 WHEN 'JOD' THEN 1000
                                             WHEN 'OMR' THEN 1000 WHEN 'TND' THEN 1000 ELSE 100 END) AS BIGINT),
    currency, approved_at FROM expenses;
DROP TABLE expenses;
ALTER TABLE expenses_exact RENAME TO expenses;

ALTER TABLE leave_balances ADD COLUMN half_days BIGINT NOT NULL DEFAULT 0;
UPDATE leave_balances SET half_days = CAST(round(days * 2) AS BIGINT);
ALTER TABLE leave_balances DROP COLUMN days;
ALTER TABLE leave_requests ADD COLUMN half_days BIGINT NOT NULL DEFAULT 0;
UPDATE leave_requests SET half_days = CAST(round(days * 2) AS BIGINT);
ALTER TABLE leave_requests DROP COLUMN days;
