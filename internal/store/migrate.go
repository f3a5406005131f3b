package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is goose's record of the migrations a store has seen.
const versionTable = "goose_db_version"

// migrate brings the schema up to date with goose. On PostgreSQL a session
// lock lets one of several workers starting together migrate while the
// others wait.
func (s *Store) migrate(ctx context.Context) error {
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else if err := s.adoptLegacyVersions(ctx); err != nil {
		return err
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, s.db, files, opts...)
	if err != nil {
		return err
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read the store's schema version: %w", err)
	}
	sources := p.ListSources()
	if known := sources[len(sources)-1].Version; current > known {
		return fmt.Errorf("its schema is at version %d, from a newer Tandem than this one (which knows versions up to %d); run that Tandem, or restore a backup taken before it", current, known)
	}
	_, err = p.Up(ctx)
	return err
}

// adoptLegacyVersions carries the migrations an SQLite store recorded in
// its schema_migrations table, before goose, over into goose's table, so
// that goose applies only the ones it has not seen.
func (s *Store) adoptLegacyVersions(ctx context.Context) error {
	c := s.conn()
	var legacy, adopted int
	if err := c.row(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&legacy); err != nil {
		return err
	}
	if err := c.row(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, versionTable).Scan(&adopted); err != nil {
		return err
	}
	if legacy == 0 || adopted > 0 {
		return nil
	}
	var names []string
	if err := c.query(ctx, `SELECT name FROM schema_migrations ORDER BY name`).each(func(r *sql.Rows) error {
		var n string
		if err := r.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
		return nil
	}); err != nil {
		return fmt.Errorf("read the migrations the store has seen: %w", err)
	}
	versions, err := database.NewStore(goose.DialectSQLite3, versionTable)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(c conn) error {
		tx := c.q
		if err := versions.CreateVersionTable(ctx, tx); err != nil {
			return err
		}
		for _, name := range append([]string{"0000_"}, names...) {
			v, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
			if err != nil {
				return fmt.Errorf("the store records migration %q, which has no version number", name)
			}
			if err := versions.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
				return err
			}
		}
		_, err := c.exec(ctx, `DROP TABLE schema_migrations`)
		return err
	})
}
