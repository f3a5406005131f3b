package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MCPCall is one call of an MCP server's tool by an agent run's step.
type MCPCall struct {
	Key        string // the run and step
	Server     string
	Tool       string
	ArgsDigest string
	Status     string // MCPStarted or MCPDone
	Result     string // the result as JSON, once done
}

// States of an MCP call.
const (
	MCPStarted = "started"
	MCPDone    = "done"
)

// BeginMCPCall records that a call is about to be made, unless its step
// already made it: then it returns that earlier record, and begun is false.
func (s *Store) BeginMCPCall(ctx context.Context, c MCPCall) (earlier MCPCall, begun bool, err error) {
	err = s.inTx(ctx, func(tx conn) error {
		earlier = MCPCall{Key: c.Key}
		switch err := tx.row(ctx, `SELECT server, tool, args_digest, status, result FROM mcp_calls WHERE call_key = ?`, c.Key).
			Scan(&earlier.Server, &earlier.Tool, &earlier.ArgsDigest, &earlier.Status, &earlier.Result); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		begun = true
		_, err := tx.exec(ctx, `INSERT INTO mcp_calls (call_key, server, tool, args_digest, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Key, c.Server, c.Tool, c.ArgsDigest, MCPStarted, s.stamp())
		return err
	})
	if err != nil {
		return MCPCall{}, false, fmt.Errorf("record the MCP call %s: %w", c.Key, err)
	}
	return earlier, begun, nil
}

// FinishMCPCall keeps a call's result, for a retry to return it.
func (s *Store) FinishMCPCall(ctx context.Context, key, result string) error {
	if _, err := s.conn().exec(ctx, `UPDATE mcp_calls SET status = ?, result = ? WHERE call_key = ?`, MCPDone, result, key); err != nil {
		return fmt.Errorf("record the result of MCP call %s: %w", key, err)
	}
	return nil
}

// ForgetMCPCall removes the record of a call that failed before it reached
// the server, so that a retry makes it.
func (s *Store) ForgetMCPCall(ctx context.Context, key string) error {
	if _, err := s.conn().exec(ctx, `DELETE FROM mcp_calls WHERE call_key = ? AND status = ?`, key, MCPStarted); err != nil {
		return fmt.Errorf("forget MCP call %s: %w", key, err)
	}
	return nil
}
