package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Purged counts what one retention pass deleted.
type Purged struct {
	AgentRuns  int64 // agent transcripts, with their turns and summaries
	Redactions int64 // placeholder mappings
}

// PurgeModelOutputs deletes model outputs older than keep (agent
// transcripts and placeholder mappings), in one transaction. A keep of 0
// keeps everything.
func PurgeModelOutputs(ctx context.Context, db *sql.DB, keep time.Duration, now time.Time) (Purged, error) {
	var p Purged
	if keep <= 0 {
		return p, nil
	}
	cutoff := now.UTC().Add(-keep).Format("2006-01-02 15:04:05")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return p, fmt.Errorf("begin the retention pass: %w", err)
	}
	defer tx.Rollback()
	steps := []struct {
		sql   string
		count *int64
	}{
		{`DELETE FROM agent_turns WHERE run_key IN (SELECT run_key FROM agent_runs WHERE created_at < ?)`, nil},
		{`DELETE FROM agent_runs WHERE created_at < ?`, &p.AgentRuns},
		{`DELETE FROM redactions WHERE created_at < ?`, &p.Redactions},
		{`DELETE FROM redaction_names WHERE created_at < ?`, nil},
	}
	for _, s := range steps {
		res, err := tx.ExecContext(ctx, s.sql, cutoff)
		if err != nil {
			return Purged{}, fmt.Errorf("delete model outputs older than %s: %w", cutoff, err)
		}
		if s.count != nil {
			*s.count, _ = res.RowsAffected()
		}
	}
	if err := tx.Commit(); err != nil {
		return Purged{}, fmt.Errorf("commit the retention pass: %w", err)
	}
	return p, nil
}
