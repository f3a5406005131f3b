package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/zap"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/temporalclient"
	"github.com/tandemhq/tandem/workflows"
)

func status(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlagSet("status", "WORKFLOW-ID", &cfg)
	asJSON := fs.Bool("json", false, "print as JSON")
	wait := fs.Bool("wait", false, "wait until the run completes or waits for a person")
	c, id, err := openRun(ctx, &cfg, fs, args)
	if err != nil {
		return err
	}
	defer c.Close()
	return showRun(ctx, c, cfg, id, *wait, *asJSON, out)
}

// list shows Tandem runs, filtered with a Temporal visibility query.
func list(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlagSet("list", "", &cfg)
	kind := fs.String("kind", "", "only runs of this kind: ticket-routing, invoice, leave, compliance, agent")
	waiting := fs.Bool("waiting", false, "only runs waiting for a person's decision")
	statusFilter := fs.String("status", "", "only runs with this status: Running, Completed, Failed, …")
	idsOnly := fs.Bool("ids", false, "print workflow ids only, one a line")
	asJSON := fs.Bool("json", false, "print as JSON lines")
	limit := fs.Int("limit", 50, "at most this many runs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *kind != "" {
		if _, err := api.KindNamed(*kind); err != nil {
			return usageError{err}
		}
	}
	query := listQuery(*kind, *waiting, *statusFilter)
	c, err := temporalclient.Dial(ctx, cfg, zap.NewNop())
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: cfg.Namespace, Query: query, PageSize: int32(*limit),
	})
	if err != nil {
		return fmt.Errorf("list runs with %q: %w", query, err)
	}
	for _, e := range resp.GetExecutions() {
		id, runID := e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()
		fields := e.GetSearchAttributes().GetIndexedFields()
		kindOf := strings.Trim(string(fields[workflows.KindKey.GetName()].GetData()), `"`)
		step := strings.Trim(string(fields[workflows.StatusKey.GetName()].GetData()), `"`)
		switch {
		case *idsOnly:
			fmt.Fprintln(out, id)
		case *asJSON:
			writeJSON(out, map[string]any{"workflowId": id, "runId": runID, "kind": kindOf, "status": e.GetStatus().String(),
				"step": step, "started": e.GetStartTime().AsTime(), "url": cfg.WorkflowURL(id, runID)})
		default:
			fmt.Fprintf(out, "%-44s %-15s %-10s %-22s %s\n", id, kindOf, e.GetStatus(), step, e.GetStartTime().AsTime().Format("2006-01-02 15:04:05"))
		}
	}
	return nil
}

// listQuery builds the visibility query for list's filters.
func listQuery(kind string, waiting bool, status string) string {
	clauses := []string{workflows.KindKey.GetName() + " IS NOT NULL"}
	if kind != "" {
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", workflows.KindKey.GetName(), strings.ReplaceAll(kind, "'", "")))
	}
	if waiting {
		clauses = append(clauses, workflows.WaitingKey.GetName()+" = true", "ExecutionStatus = 'Running'")
	}
	if status != "" {
		clauses = append(clauses, fmt.Sprintf("ExecutionStatus = '%s'", strings.ReplaceAll(status, "'", "")))
	}
	return strings.Join(clauses, " AND ")
}
