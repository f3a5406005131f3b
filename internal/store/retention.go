package store

import (
	"context"
	"fmt"
	"time"
)

// Purged counts what one retention pass deleted.
type Purged struct {
	AgentRuns  int64 // agent transcripts, with their turns and summaries
	Redactions int64 // placeholder mappings
}

// PurgeModelOutputs deletes model outputs older than keep (agent
// transcripts, placeholder mappings and MCP tool results), in one transaction. A keep of 0
// keeps everything.
func (s *Store) PurgeModelOutputs(ctx context.Context, keep time.Duration, now time.Time) (Purged, error) {
	var p Purged
	if keep <= 0 {
		return p, nil
	}
	cutoff := now.UTC().Add(-keep).Format(timeFormat)
	err := s.inTx(ctx, func(c conn) error {
		for _, step := range []struct {
			sql   string
			count *int64
		}{
			{`DELETE FROM agent_turns WHERE run_key IN (SELECT run_key FROM agent_runs WHERE created_at < ?)`, nil},
			{`DELETE FROM agent_runs WHERE created_at < ?`, &p.AgentRuns},
			{`DELETE FROM redactions WHERE created_at < ?`, &p.Redactions},
			{`DELETE FROM redaction_names WHERE created_at < ?`, nil},
			{`DELETE FROM mcp_calls WHERE created_at < ?`, nil},
		} {
			res, err := c.exec(ctx, step.sql, cutoff)
			if err != nil {
				return fmt.Errorf("delete model outputs older than %s: %w", cutoff, err)
			}
			if step.count != nil {
				*step.count, _ = res.RowsAffected()
			}
		}
		return nil
	})
	if err != nil {
		return Purged{}, err
	}
	return p, nil
}
