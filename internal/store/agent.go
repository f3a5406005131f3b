package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AgentRun is an agent run's fixed frame, as JSON, and the summary of its
// turns up to SummaryUpTo.
type AgentRun struct {
	RunKey      string
	Goal        string
	Profile     string
	Frame       []byte
	Summary     string
	SummaryUpTo int
}

// SaveAgentRun stores an agent run's frame once.
func (s *Store) SaveAgentRun(ctx context.Context, r AgentRun) error {
	_, err := s.conn().exec(ctx, `INSERT INTO agent_runs (run_key, goal, profile, frame, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (run_key) DO NOTHING`, r.RunKey, r.Goal, r.Profile, string(r.Frame), s.stamp())
	if err != nil {
		return fmt.Errorf("store the frame of agent run %s: %w", r.RunKey, err)
	}
	return nil
}

// SaveAgentSummary keeps the summary of an agent run's turns up to upTo.
func (s *Store) SaveAgentSummary(ctx context.Context, runKey, summary string, upTo int) error {
	if _, err := s.conn().exec(ctx, `UPDATE agent_runs SET summary = ?, summary_upto = ? WHERE run_key = ?`,
		summary, upTo, runKey); err != nil {
		return fmt.Errorf("store the summary of agent run %s: %w", runKey, err)
	}
	return nil
}

// AgentTurn is one step of an agent run's transcript, as JSON.
type AgentTurn struct {
	Step int
	Turn []byte
}

// AppendAgentTurns adds turns to an agent run's transcript, once per step.
func (s *Store) AppendAgentTurns(ctx context.Context, runKey string, turns []AgentTurn) error {
	return s.inTx(ctx, func(c conn) error {
		for _, t := range turns {
			if _, err := c.exec(ctx, `INSERT INTO agent_turns (run_key, step, turn) VALUES (?, ?, ?)
				ON CONFLICT (run_key, step) DO NOTHING`, runKey, t.Step, string(t.Turn)); err != nil {
				return fmt.Errorf("record step %d of agent run %s: %w", t.Step, runKey, err)
			}
		}
		return nil
	})
}

// AgentTranscript loads an agent run and the turns after its summary;
// ErrNotFound when the run has no frame.
func (s *Store) AgentTranscript(ctx context.Context, runKey string) (AgentRun, []AgentTurn, error) {
	r := AgentRun{RunKey: runKey}
	c := s.conn()
	var frame string
	err := c.row(ctx, `SELECT goal, profile, frame, summary, summary_upto FROM agent_runs WHERE run_key = ?`, runKey).
		Scan(&r.Goal, &r.Profile, &frame, &r.Summary, &r.SummaryUpTo)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil, fmt.Errorf("agent run %s: %w", runKey, ErrNotFound)
	} else if err != nil {
		return r, nil, fmt.Errorf("load agent run %s: %w", runKey, err)
	}
	r.Frame = []byte(frame)
	var turns []AgentTurn
	err = c.query(ctx, `SELECT step, turn FROM agent_turns WHERE run_key = ? AND step > ? ORDER BY step`, runKey, r.SummaryUpTo).each(func(rows *sql.Rows) error {
		var t AgentTurn
		var body string
		err := rows.Scan(&t.Step, &body)
		t.Turn = []byte(body)
		turns = append(turns, t)
		return err
	})
	if err != nil {
		return r, nil, fmt.Errorf("load the transcript of agent run %s: %w", runKey, err)
	}
	return r, turns, nil
}
