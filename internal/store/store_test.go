package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigrationsMakeAnExistingStoreExact builds a store as it was before
// exact money (amounts in REAL, days in REAL), with the records of earlier
// runs, and opens it: every amount becomes whole minor units of its
// currency, and every day count half days, without losing a record.
func TestMigrationsMakeAnExistingStoreExact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(on)")
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))`)
	require.NoError(t, err)
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	require.NoError(t, err)
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		if base >= "0007" {
			break
		}
		body, err := migrationFiles.ReadFile(name)
		require.NoError(t, err)
		_, err = db.Exec(string(body))
		require.NoError(t, err, base)
		_, err = db.Exec(`INSERT INTO schema_migrations (name) VALUES (?)`, base)
		require.NoError(t, err)
	}
	for _, stmt := range []string{
		`INSERT INTO vendors (id, name, tax_id) VALUES ('V-1', 'Acme', 'DE1')`,
		`INSERT INTO purchase_orders VALUES ('PO-1', 'V-1', 250.1, 'EUR')`,
		`INSERT INTO ledger VALUES ('k1', 'V-1', 'A-1', 245.14, 'EUR', 'ap.clerk', 'w1', '2026-11-01')`,
		`INSERT INTO ledger VALUES ('k2', 'V-1', 'A-2', 1500, 'JPY', 'ap.clerk', 'w2', '2026-11-01')`,
		`INSERT INTO customers VALUES ('C-1', 'Camille', 'c@example.com', 'standard', '2024-01-01')`,
		`INSERT INTO orders VALUES ('O-1', 'C-1', 'lamp', 59.99, 'EUR', 'shipped', '2026-11-01')`,
		`INSERT INTO refunds (idempotency_key, order_id, amount, reason, approved_by) VALUES ('r1', 'O-1', 19.99, 'late', 'x')`,
		`INSERT INTO expenses VALUES ('X-1', 'E-1', 'E-2', 'Rail', 'travel', 89.9, 'EUR', '2026-11-01 10:00:00')`,
		`INSERT INTO employees (id, name, team, role) VALUES ('E-1', 'Lena', 'core', 'engineer')`,
		`INSERT INTO leave_balances VALUES ('E-1', 'annual', 12.5)`,
		`INSERT INTO leave_requests VALUES ('l1', 'E-1', 'annual', '2026-12-01', '2026-12-03', 3, 'approved', 'E-2')`,
	} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())

	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	c := s.conn()
	for query, want := range map[string]int64{
		`SELECT amount_minor FROM purchase_orders WHERE number = 'PO-1'`:    25010,
		`SELECT amount_minor FROM ledger WHERE idempotency_key = 'k1'`:      24514,
		`SELECT amount_minor FROM ledger WHERE idempotency_key = 'k2'`:      1500,
		`SELECT amount_minor FROM orders WHERE id = 'O-1'`:                  5999,
		`SELECT amount_minor FROM refunds WHERE idempotency_key = 'r1'`:     1999,
		`SELECT amount_minor FROM expenses WHERE id = 'X-1'`:                8990,
		`SELECT half_days FROM leave_balances WHERE employee_id = 'E-1'`:    25,
		`SELECT half_days FROM leave_requests WHERE idempotency_key = 'l1'`: 6,
	} {
		var got int64
		require.NoError(t, c.row(ctx, query).Scan(&got), query)
		assert.Equal(t, want, got, query)
	}
	var kind string
	require.NoError(t, c.row(ctx, `SELECT kind FROM ledger WHERE idempotency_key = 'k1'`).Scan(&kind))
	assert.Equal(t, "invoice", kind, "postings from before credit notes are invoices")
}

// TestBadSettingsAndStoresAreRefusedInASentence covers what an operator can
// get wrong: a TANDEM_DB that is neither a file nor a PostgreSQL URL, a
// PostgreSQL that does not answer, and a store a newer Tandem migrated.
func TestBadSettingsAndStoresAreRefusedInASentence(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, "mysql://root@db/tandem")
	assert.EqualError(t, err, `the business store setting "mysql://root@db/tandem" is neither a file path nor a postgres:// URL`)
	_, err = Open(ctx, "sqlite:")
	assert.EqualError(t, err, `the business store setting "sqlite:" names no file; write sqlite:path/to/tandem.db`)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	_, err = Open(ctx, "postgres://tandem:secret@"+addr+"/tandem?sslmode=disable")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the business store postgres://tandem:xxxxx@"+addr+"/tandem?sslmode=disable does not answer")
	assert.Contains(t, err.Error(), "start PostgreSQL there, or point TANDEM_DB at the one that runs")
	assert.NotContains(t, err.Error(), "secret")

	path := filepath.Join(t.TempDir(), "tandem.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	_, err = s.conn().exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctx, "sqlite:"+path)
	require.Error(t, err)
	migrations, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	assert.Contains(t, err.Error(), fmt.Sprintf("its schema is at version 999, from a newer Tandem than this one (which knows versions up to %d)", len(migrations)))
}

func TestPasswordsStayOutOfTheStoresName(t *testing.T) {
	assert.Equal(t, "postgres://tandem:xxxxx@db:5432/tandem", redactURL("postgres://tandem:p@ss@db:5432/tandem"))
	assert.Equal(t, "postgres://tandem@db/tandem", redactURL("postgres://tandem@db/tandem"))
	assert.Equal(t, "data/tandem.db", redactURL("data/tandem.db"))
}
