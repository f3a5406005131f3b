package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// Seed runs the SQL file at path against db, for sample data. Seed files use
// INSERT OR IGNORE, so seeding twice changes nothing.
func Seed(ctx context.Context, db *sql.DB, path string) error {
	body, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the seed file %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("seed the business store from %s: %w", path, err)
	}
	return nil
}
