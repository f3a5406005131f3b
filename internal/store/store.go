// Package store is Tandem's business store: every record the workflows read
// and write, behind typed methods. It holds all of Tandem's SQL. The store is
// an embedded SQLite file by default, or a PostgreSQL database shared by
// workers on several hosts; one set of migrations brings either up to date
// when it opens.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// ErrNotFound is a record that does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is a write that a unique key refused: the record is already
// there under another key.
var ErrDuplicate = errors.New("already recorded")

// Store is the business store. Every write carries an idempotency key, so a
// retried activity never writes twice, and writes that change two rows do
// so in one transaction.
type Store struct {
	db       *sql.DB
	postgres bool
	location string // where the store is, without credentials
	// Now is the clock of the timestamps the store writes; time.Now when nil.
	Now func() time.Time
}

// Target is where a TANDEM_DB setting points: the driver and its source.
type Target struct {
	Postgres bool
	Source   string // a file path for SQLite, a connection URL for PostgreSQL
}

// ParseTarget reads a TANDEM_DB setting: a postgres:// or postgresql:// URL
// selects PostgreSQL; a file path, or sqlite:path, selects SQLite.
func ParseTarget(setting string) (Target, error) {
	setting = strings.TrimSpace(setting)
	switch {
	case setting == "":
		return Target{}, errors.New("the business store setting (TANDEM_DB) is empty; give a file path or a postgres:// URL")
	case strings.HasPrefix(setting, "postgres://"), strings.HasPrefix(setting, "postgresql://"):
		return Target{Postgres: true, Source: setting}, nil
	case strings.HasPrefix(setting, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(setting, "sqlite:"), "//")
		if path == "" {
			return Target{}, fmt.Errorf("the business store setting %q names no file; write sqlite:path/to/tandem.db", setting)
		}
		return Target{Source: path}, nil
	case strings.Contains(setting, "://"):
		return Target{}, fmt.Errorf("the business store setting %q is neither a file path nor a postgres:// URL", redactURL(setting))
	}
	return Target{Source: setting}, nil
}

// Bind numbers the ? placeholders of query as the target's database takes
// them.
func (t Target) Bind(query string) string { return conn{postgres: t.Postgres}.bind(query) }

// PostgresConnections is how many connections to PostgreSQL one process
// holds at most.
const PostgresConnections = 10

// connectTimeout bounds the first connection to the store.
const connectTimeout = 15 * time.Second

// Open opens the business store a TANDEM_DB setting names, creating an
// SQLite file if needed, and applies any migrations it has not seen.
func Open(ctx context.Context, setting string) (*Store, error) {
	t, err := ParseTarget(setting)
	if err != nil {
		return nil, err
	}
	s := &Store{postgres: t.Postgres, location: t.Source}
	if t.Postgres {
		s.location = redactURL(t.Source)
		if s.db, err = sql.Open("pgx", t.Source); err == nil {
			// A worker's writes wait for a connection beyond this, so the
			// sum over workers stays under the server's max_connections.
			s.db.SetMaxOpenConns(PostgresConnections)
			s.db.SetMaxIdleConns(PostgresConnections)
		}
	} else {
		s.db, err = openSQLite(t.Source)
	}
	if err != nil {
		return nil, fmt.Errorf("open the business store %s: %w", s.location, err)
	}
	ping, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := s.db.PingContext(ping); err != nil {
		s.db.Close()
		if t.Postgres {
			return nil, fmt.Errorf("the business store %s does not answer (%v); start PostgreSQL there, or point TANDEM_DB at the one that runs", s.location, err)
		}
		return nil, fmt.Errorf("open the business store %s: %w", s.location, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("bring the business store %s up to date: %w", s.location, err)
	}
	return s, nil
}

func openSQLite(path string) (*sql.DB, error) {
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create its folder: %w", err)
		}
	}
	// Transactions take the write lock when they begin, so that one that
	// reads then writes waits its turn instead of failing as busy.
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=journal_mode(wal)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(on)&_pragma=synchronous(normal)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	return db, nil
}

// redactURL is a connection URL without its password.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user := rest[:at]
			if c := strings.Index(user, ":"); c >= 0 {
				user = user[:c] + ":xxxxx"
			}
			return s[:i+3] + user + rest[at:]
		}
	}
	return s
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Ping reports whether the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("the business store %s does not answer: %w", s.location, err)
	}
	return nil
}

// Backend is "postgres" or "sqlite".
func (s *Store) Backend() string {
	if s.postgres {
		return "postgres"
	}
	return "sqlite"
}

// Location is where the store is, without credentials.
func (s *Store) Location() string { return s.location }

// timeFormat is how the store writes timestamps it compares as text.
const timeFormat = "2006-01-02 15:04:05"

// Clock is the store's clock, in UTC.
func (s *Store) Clock() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// stamp is the store's clock as the store writes it.
func (s *Store) stamp() string { return s.Clock().Format(timeFormat) }

// conn is the database or one transaction; its queries are written with ?
// placeholders, numbered for PostgreSQL.
type conn struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
	postgres bool
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.bind(query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) rows {
	r, err := c.q.QueryContext(ctx, c.bind(query), args...)
	return rows{r, err}
}

func (c conn) row(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.bind(query), args...)
}

// bind numbers the ? placeholders of query for PostgreSQL.
func (c conn) bind(query string) string {
	if !c.postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range query {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) conn() conn { return conn{q: s.db, postgres: s.postgres} }

// inTx runs fn in one transaction: all of its writes land, or none.
func (s *Store) inTx(ctx context.Context, fn func(c conn) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin a business-store transaction: %w", err)
	}
	if err := fn(conn{q: tx, postgres: s.postgres}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit a business-store transaction: %w", err)
	}
	return nil
}

// uniqueViolation reports whether err is a unique key refusing a row.
func uniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// flag is a boolean as the store keeps it: 0 or 1.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rows is the outcome of a query.
type rows struct {
	rows *sql.Rows
	err  error
}

// each reads every row with scan.
func (r rows) each(scan func(*sql.Rows) error) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	for r.rows.Next() {
		if err := scan(r.rows); err != nil {
			return err
		}
	}
	return r.rows.Err()
}
