-- +goose Up
-- Money is exact: ledger and purchase-order amounts are whole minor units
-- of their currency (cents for EUR, yen for JPY, fils for KWD). The ledger
-- also tells invoices from credit notes, keeps the document's content hash,
-- so the same document never posts twice whatever a model reads in it, and
-- a credit note's reference to the invoice it credits.

CREATE TABLE ledger_exact (
    idempotency_key TEXT PRIMARY KEY,
    kind            TEXT NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    vendor_id       TEXT NOT NULL,
    invoice_number  TEXT NOT NULL,
    refers_to       TEXT NOT NULL DEFAULT '',
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    content_hash    TEXT NOT NULL DEFAULT '',
    approved_by     TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    posted_at       TEXT NOT NULL,
    UNIQUE (vendor_id, kind, invoice_number)
);
INSERT INTO ledger_exact (idempotency_key, vendor_id, invoice_number, amount_minor, currency, approved_by, workflow_id, posted_at)
SELECT idempotency_key, vendor_id, invoice_number,
       CAST(round(amount * CASE upper(currency) WHEN 'JPY' THEN 1 WHEN 'KRW' THEN 1 WHEN 'ISK' THEN 1
                                                WHEN 'KWD' THEN 1000 WHEN 'BHD' THEN 1000 WHEN 'JOD' THEN 1000
                                                WHEN 'OMR' THEN 1000 WHEN 'TND' THEN 1000 ELSE 100 END) AS BIGINT),
       currency, approved_by, workflow_id, posted_at
FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_exact RENAME TO ledger;
CREATE UNIQUE INDEX ledger_content_hash ON ledger (content_hash) WHERE content_hash != '';

CREATE TABLE purchase_orders_exact (
    number       TEXT PRIMARY KEY,
    vendor_id    TEXT NOT NULL REFERENCES vendors(id),
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL
);
INSERT INTO purchase_orders_exact (number, vendor_id, amount_minor, currency)
SELECT number, vendor_id,
       CAST(round(amount * CASE upper(currency) WHEN 'JPY' THEN 1 WHEN 'KRW' THEN 1 WHEN 'ISK' THEN 1
                                                WHEN 'KWD' THEN 1000 WHEN 'BHD' THEN 1000 WHEN 'JOD' THEN 1000
                                                WHEN 'OMR' THEN 1000 WHEN 'TND' THEN 1000 ELSE 100 END) AS BIGINT),
       currency
FROM purchase_orders;
DROP TABLE purchase_orders;
ALTER TABLE purchase_orders_exact RENAME TO purchase_orders;
