-- Sample business data for the demo and the tests, for SQLite and
-- PostgreSQL alike. Dates are relative to today, so the compliance period
-- "the last 7 days" always has records. The file is a Go text/template:
-- `day N` is the date N days from today, `at D H M` the time H:M on day D,
-- and `ago N` the moment N days ago. Every insert ignores rows already
-- there, so seeding twice changes nothing.

INSERT INTO vendors (id, name, tax_id, active) VALUES
    ('V-ACME',    'Acme Office Supplies', 'DE811234567', 1),
    ('V-GLOBEX',  'Globex Consulting',    'GB123456789', 1),
    ('V-INITECH', 'Initech Hardware',     'US98-7654321', 1),
    ('V-UMBRELLA','Umbrella Logistics',   'NL004495445B01', 0)
    ON CONFLICT DO NOTHING;

-- Amounts are whole minor units (cents).
INSERT INTO purchase_orders (number, vendor_id, amount_minor, currency) VALUES
    ('PO-1001', 'V-ACME',    25000,   'EUR'),
    ('PO-2001', 'V-GLOBEX',  1200000, 'EUR'),
    ('PO-3001', 'V-INITECH', 180000,  'USD'),
    ('PO-3002', 'V-ACME',    90000,   'EUR')
    ON CONFLICT DO NOTHING;

-- Already posted: the duplicate sample repeats this invoice.
INSERT INTO ledger (idempotency_key, vendor_id, invoice_number, amount_minor, currency, approved_by, workflow_id, posted_at) VALUES
    ('seed-ledger-1', 'V-INITECH', 'INI-2024-0042', 178500, 'USD', 'ap.lead', 'seed', {{ago 20}})
    ON CONFLICT DO NOTHING;

INSERT INTO employees (id, name, team, role, manager_id) VALUES
    ('E-CEO',  'Morgan Diaz',   'management',  'executive', NULL),
    ('E-100',  'Sam Okafor',    'engineering', 'manager',   'E-CEO'),
    ('E-101',  'Lena Fischer',  'engineering', 'engineer',  'E-100'),
    ('E-102',  'Tom Becker',    'engineering', 'engineer',  'E-100'),
    ('E-103',  'Aisha Khan',    'engineering', 'engineer',  'E-100'),
    ('E-200',  'Rita Moreau',   'finance',     'manager',   'E-CEO'),
    ('E-201',  'Jon Park',      'finance',     'accountant','E-200'),
    ('E-202',  'Eva Lindqvist', 'finance',     'accountant','E-200')
    ON CONFLICT DO NOTHING;

-- Leave is counted in half days: 36 half days are 18 days.
INSERT INTO leave_balances (employee_id, leave_type, half_days) VALUES
    ('E-101', 'annual', 36), ('E-101', 'sick', 20),
    ('E-102', 'annual', 4),  ('E-102', 'sick', 20),
    ('E-103', 'annual', 50), ('E-103', 'sick', 20),
    ('E-201', 'annual', 24), ('E-202', 'annual', 41)
    ON CONFLICT DO NOTHING;

-- Approved leave already on the team calendar.
INSERT INTO leave_requests (idempotency_key, employee_id, leave_type, start_date, end_date, half_days, status, decided_by) VALUES
    ('seed-leave-1', 'E-103', 'annual', {{day 40}}, {{day 44}}, 10, 'approved', 'E-100')
    ON CONFLICT DO NOTHING;

INSERT INTO leave_blackouts (start_date, end_date, reason)
    SELECT {{day 70}}, {{day 76}}, 'quarter-end close and release freeze'
    WHERE NOT EXISTS (SELECT 1 FROM leave_blackouts)
    ON CONFLICT DO NOTHING;

INSERT INTO role_permissions (role, resource) VALUES
    ('engineer', 'source-code'), ('engineer', 'ci'), ('engineer', 'staging'),
    ('manager', 'source-code'), ('manager', 'hr-portal'), ('manager', 'budget'),
    ('accountant', 'ledger'), ('accountant', 'payments'), ('accountant', 'budget'),
    ('executive', 'budget'), ('executive', 'hr-portal')
    ON CONFLICT DO NOTHING;

-- Expenses of the last week: most are routine; some break a rule.
-- Amounts are whole minor units (cents).
INSERT INTO expenses (id, requester_id, approver_id, merchant, category, amount_minor, currency, approved_at) VALUES
    ('X-001', 'E-101', 'E-100', 'Deutsche Bahn',     'travel', 8990, 'EUR', {{at -6 10 0}}),
    ('X-002', 'E-102', 'E-100', 'Hotel Adlon',       'travel', 41200, 'EUR', {{at -6 11 0}}),
    ('X-003', 'E-201', 'E-200', 'Office Depot',      'supplies', 6420, 'EUR', {{at -5 9 0}}),
    ('X-004', 'E-200', 'E-200', 'Steakhouse Royal',  'meals', 78000, 'EUR', {{at -5 14 0}}),
    ('X-005', 'E-103', 'E-100', 'Apple Store',       'hardware', 640000, 'EUR', {{at -4 15 0}}),
    ('X-006', 'E-102', 'E-100', 'Conrad Electronic', 'hardware', 99500, 'EUR', {{at -4 10 0}}),
    ('X-007', 'E-102', 'E-100', 'Conrad Electronic', 'hardware', 99000, 'EUR', {{at -4 10 20}}),
    ('X-008', 'E-202', 'E-200', 'Lufthansa',         'travel', 56000, 'EUR', {{at -3 23 30}}),
    ('X-009', 'E-101', 'E-100', 'Uber',              'travel', 2340, 'EUR', {{at -2 12 0}}),
    ('X-010', 'E-201', 'E-200', 'Staples',           'supplies', 3875, 'EUR', {{at -2 16 0}}),
    ('X-011', 'E-103', 'E-100', 'Udemy',             'training', 12900, 'EUR', {{at -1 11 0}}),
    ('X-012', 'E-202', 'E-200', 'Deutsche Bahn',     'travel', 14560, 'EUR', {{at -1 9 0}})
    ON CONFLICT DO NOTHING;

INSERT INTO access_records (id, employee_id, resource, action, accessed_at) VALUES
    ('A-001', 'E-101', 'source-code', 'read',  {{at -6 9 0}}),
    ('A-002', 'E-101', 'ci',          'write', {{at -6 10 0}}),
    ('A-003', 'E-102', 'payments',    'read',  {{at -5 13 0}}),
    ('A-004', 'E-201', 'ledger',      'write', {{at -5 15 0}}),
    ('A-005', 'E-103', 'hr-portal',   'read',  {{at -3 22 0}}),
    ('A-006', 'E-202', 'payments',    'write', {{at -2 11 0}}),
    ('A-007', 'E-100', 'budget',      'read',  {{at -1 9 0}})
    ON CONFLICT DO NOTHING;

INSERT INTO customers (id, name, email, tier, since) VALUES
    ('C-100', 'Camille Martin',    'camille.martin@example.com', 'standard', '2023-04-11'),
    ('C-200', 'Northwind Traders', 'ops@northwind.example',      'business', '2021-09-01'),
    ('C-300', 'Priya Raman',       'priya@example.org',          'premium',  '2022-02-17')
    ON CONFLICT DO NOTHING;

INSERT INTO orders (id, customer_id, item, amount_minor, currency, status, ordered_at) VALUES
    ('O-20931', 'C-100', 'Desk lamp "Aurora"', 5900, 'EUR', 'shipped, tracking stalled 6 days', {{day -14}}),
    ('O-20412', 'C-100', 'Notebook set', 1850, 'EUR', 'delivered',                        {{day -60}}),
    ('O-10482', 'C-200', 'Team plan, March', 4900, 'EUR', 'charged twice',                    {{day -30}}),
    ('O-30001', 'C-300', 'Noise-cancelling headphones', 24900, 'EUR', 'delivered',                       {{day -5}})
    ON CONFLICT DO NOTHING;
