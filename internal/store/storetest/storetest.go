// Package storetest gives tests business stores, on SQLite or on
// PostgreSQL, and reads them back with SQL, the way a test checks what a
// run wrote without going through the code under test.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/testenv"
)

// Setting is a TANDEM_DB setting for a fresh, empty store of the test: an
// SQLite file in the test's folder, or a new PostgreSQL database.
func Setting(t testing.TB) string {
	t.Helper()
	if testenv.StoreBackend() == "postgres" {
		return testenv.PostgresDB(t)
	}
	return filepath.Join(t.TempDir(), "tandem.db")
}

// Open opens the store a setting names, closed when the test ends.
func Open(t testing.TB, setting string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), setting)
	if err != nil {
		t.Fatalf("open the business store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	readers.Store(s, setting)
	return s
}

// Seeded opens a fresh store of the test with the sample data. On
// PostgreSQL it is a copy of a database seeded once per test binary.
func Seeded(t testing.TB) *store.Store {
	t.Helper()
	if testenv.StoreBackend() == "postgres" {
		return Open(t, testenv.PostgresDBFrom(t, testenv.PostgresTemplate(t, "seeded", seedStoreAt)))
	}
	s := Open(t, Setting(t))
	if err := seed(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// seedStoreAt fills the store a setting names with the sample data.
func seedStoreAt(setting string) error {
	s, err := store.Open(context.Background(), setting)
	if err != nil {
		return fmt.Errorf("open the business store: %w", err)
	}
	defer s.Close()
	return seed(s)
}

func seed(s *store.Store) error {
	for range 2 { // seeding twice changes nothing
		if err := s.Seed(context.Background(), filepath.Join(testenv.RepoRoot(), "testdata", "seed.sql")); err != nil {
			return fmt.Errorf("seed the business store: %w", err)
		}
	}
	return nil
}

// SettingOf is the setting of a store this package opened.
func SettingOf(t testing.TB, s *store.Store) string {
	t.Helper()
	v, ok := readers.Load(s)
	if !ok {
		t.Fatalf("storetest knows only the stores it opened")
	}
	return v.(string)
}

// readers maps each store this package opened to its setting.
var readers sync.Map

// Scan runs query, written with ? placeholders, on a store opened by this
// package or on the store a setting names, and scans its one row into dest.
func Scan(t testing.TB, s any, query string, args []any, dest ...any) {
	t.Helper()
	db, target := openReader(t, s)
	defer db.Close()
	if err := db.QueryRow(target.Bind(query), args...).Scan(dest...); err != nil {
		t.Fatalf("read %q: %v", query, err)
	}
}

// Exec runs statement, written with ? placeholders, on a store opened by
// this package or on the store a setting names, through a connection of its
// own.
func Exec(t testing.TB, s any, statement string, args ...any) {
	t.Helper()
	db, target := openReader(t, s)
	defer db.Close()
	if _, err := db.Exec(target.Bind(statement), args...); err != nil {
		t.Fatalf("run %q: %v", statement, err)
	}
}

// Strings is the one text column of every row query returns, in order.
func Strings(t testing.TB, s any, query string, args ...any) []string {
	t.Helper()
	db, target := openReader(t, s)
	defer db.Close()
	rows, err := db.Query(target.Bind(query), args...)
	if err != nil {
		t.Fatalf("read %q: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("read %q: %v", query, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read %q: %v", query, err)
	}
	return out
}

// openReader opens a connection of its own to a store opened by this
// package, or to the store a setting names.
func openReader(t testing.TB, s any) (*sql.DB, store.Target) {
	t.Helper()
	setting, ok := s.(string)
	if !ok {
		setting = SettingOf(t, s.(*store.Store))
	}
	target, err := store.ParseTarget(setting)
	if err != nil {
		t.Fatal(err)
	}
	driver := "sqlite"
	if target.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, target.Source)
	if err != nil {
		t.Fatalf("open the business store to read it: %v", err)
	}
	return db, target
}

// Int is the one integer query returns.
func Int(t testing.TB, s any, query string, args ...any) int {
	t.Helper()
	var n sql.NullInt64
	Scan(t, s, query, args, &n)
	return int(n.Int64)
}

// String is the one string query returns.
func String(t testing.TB, s any, query string, args ...any) string {
	t.Helper()
	var v string
	Scan(t, s, query, args, &v)
	return v
}
