package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.uber.org/zap"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/temporalclient"
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
	c, err := temporalclient.Dial(ctx, cfg, zap.NewNop())
	if err != nil {
		return err
	}
	defer c.Close()
	runs, err := api.NewClient(c, cfg.TaskQueue).List(ctx, cfg.Namespace,
		api.ListFilter{Kind: *kind, Waiting: *waiting, Status: *statusFilter, Limit: *limit})
	var invalid *api.InvalidInputError
	if errors.As(err, &invalid) {
		return usageError{err}
	} else if err != nil {
		return err
	}
	for _, r := range runs {
		switch {
		case *idsOnly:
			fmt.Fprintln(out, r.WorkflowID)
		case *asJSON:
			writeJSON(out, struct {
				api.RunSummary
				URL string `json:"url"`
			}{r, cfg.WorkflowURL(r.WorkflowID, r.RunID)})
		default:
			fmt.Fprintf(out, "%-44s %-15s %-10s %-22s %s\n", r.WorkflowID, r.Kind, r.Status, r.Step, r.Started.Format("2006-01-02 15:04:05"))
		}
	}
	return nil
}
