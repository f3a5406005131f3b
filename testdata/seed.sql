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

-- Marketing: the audiences campaigns reach, two past campaigns with what
-- they published, sent and achieved, and the campaign the marketing agent
-- runs, starting today for six weeks.
INSERT INTO audiences (id, name, description, size) VALUES
    ('AUD-NEWS',   'Newsletter subscribers',  'people who opted in to the monthly newsletter', 18000),
    ('AUD-LAPSED', 'Lapsed customers',        'customers with no order in the last 12 months', 6400),
    ('AUD-SOCIAL', 'Social followers',        'followers of the company''s social accounts', 42000)
    ON CONFLICT DO NOTHING;

INSERT INTO campaigns (id, name, product, goal_conversions, starts_on, ends_on, budget_minor, max_send_minor, currency) VALUES
    ('CMP-AUTUMN', 'Autumn desk refresh', 'Desk lamp "Aurora"', 250, {{day -170}}, {{day -128}}, 250000, 60000, 'EUR'),
    ('CMP-WINTER', 'Winter notebooks',    'Notebook set',       300, {{day -75}},  {{day -33}},  300000, 80000, 'EUR'),
    ('CMP-SPRING', 'Spring headphones',   'Noise-cancelling headphones', 400, {{day 0}}, {{day 41}}, 300000, 80000, 'EUR')
    ON CONFLICT DO NOTHING;

INSERT INTO campaign_content (id, publish_key, campaign_id, channel, variant, subject, body, approved_by, published_at) VALUES
    ('CMP-AUTUMN-V1', 'seed/autumn/1', 'CMP-AUTUMN', 'email',  'price-led',   'Aurora, now 20% off', 'Light your desk for less this autumn.', 'marketing.lead', {{at -170 9 0}}),
    ('CMP-AUTUMN-V2', 'seed/autumn/2', 'CMP-AUTUMN', 'social', 'story-led',   'Late nights, warm light', 'How our designers work after dark.', 'marketing.lead', {{at -169 9 0}}),
    ('CMP-WINTER-V1', 'seed/winter/1', 'CMP-WINTER', 'email',  'gift-led',    'The notebook they will fill', 'A gift that lasts all year.', 'marketing.lead', {{at -75 9 0}}),
    ('CMP-WINTER-V2', 'seed/winter/2', 'CMP-WINTER', 'email',  'price-led',   'Notebook set, 3 for 2', 'Stock up for the new year.', 'marketing.lead', {{at -60 9 0}}),
    ('CMP-WINTER-V3', 'seed/winter/3', 'CMP-WINTER', 'social', 'story-led',   'One year, one notebook', 'A reader''s year in pages.', 'marketing.lead', {{at -74 9 0}})
    ON CONFLICT DO NOTHING;

INSERT INTO campaign_sends (send_key, campaign_id, content_id, audience_id, send_on, spend_minor, created_at) VALUES
    ('seed/autumn/s1', 'CMP-AUTUMN', 'CMP-AUTUMN-V1', 'AUD-NEWS',   {{day -168}}, 40000, {{at -170 10 0}}),
    ('seed/autumn/s2', 'CMP-AUTUMN', 'CMP-AUTUMN-V2', 'AUD-SOCIAL', {{day -165}}, 60000, {{at -169 10 0}}),
    ('seed/winter/s1', 'CMP-WINTER', 'CMP-WINTER-V1', 'AUD-NEWS',   {{day -73}},  50000, {{at -75 10 0}}),
    ('seed/winter/s2', 'CMP-WINTER', 'CMP-WINTER-V2', 'AUD-LAPSED', {{day -58}},  45000, {{at -60 10 0}}),
    ('seed/winter/s3', 'CMP-WINTER', 'CMP-WINTER-V3', 'AUD-SOCIAL', {{day -72}},  80000, {{at -74 10 0}})
    ON CONFLICT DO NOTHING;

INSERT INTO campaign_results (campaign_id, batch, content_id, sent, opens, clicks, conversions, spend_minor, reported_by, reported_at) VALUES
    ('CMP-AUTUMN', 'final', 'CMP-AUTUMN-V1', 18000, 5400, 720, 140, 40000, 'mailer', {{at -128 18 0}}),
    ('CMP-AUTUMN', 'final', 'CMP-AUTUMN-V2', 42000, 0,    910,  65, 60000, 'social', {{at -128 18 0}}),
    ('CMP-WINTER', 'final', 'CMP-WINTER-V1', 18000, 6100, 980, 190, 50000, 'mailer', {{at -33 18 0}}),
    ('CMP-WINTER', 'final', 'CMP-WINTER-V2',  6400, 1300, 210,  35, 45000, 'mailer', {{at -33 18 0}}),
    ('CMP-WINTER', 'final', 'CMP-WINTER-V3', 42000, 0,   1400,  88, 80000, 'social', {{at -33 18 0}})
    ON CONFLICT DO NOTHING;
