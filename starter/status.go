package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/api"
)

// statusCmd shows a run as it is now.
func statusCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "status WORKFLOW-ID",
		Short:   "Show a run's step, pending decision with its checks, model waits and result",
		Example: "  starter status invoice-0a4c…\n  starter status --wait -o json invoice-0a4c…",
	}
	wait := cmd.Flags().Bool("wait", false, "wait until the run completes or waits for a person")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		asJSON := a.json()
		c, id, err := openRun(ctx, cfg, "status", args)
		if err != nil {
			return err
		}
		defer c.Close()
		return showRun(ctx, c, cfg, id, *wait, asJSON, out)
	}
	return cmd
}

// listCmd shows Tandem runs, filtered with a Temporal visibility query.
func listCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List Tandem runs by kind, status, or waiting for a decision",
		Example: "  starter list --waiting\n  starter list --sleeping\n  starter list --kind invoice --status Running --ids",
	}
	kind := kindFlag(cmd)
	waiting := cmd.Flags().Bool("waiting", false, "only runs waiting for a person's decision")
	sleeping := cmd.Flags().Bool("sleeping", false, "only agents sleeping in wait or wait_for_event")
	statusFilter := cmd.Flags().String("status", "", "only runs with this status: Running, Completed, Failed, …")
	idsOnly := cmd.Flags().Bool("ids", false, "print workflow ids only, one a line")
	limit := cmd.Flags().Int("limit", 50, "at most this many runs")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		asJSON := a.json()
		if err := checkKind(*kind); err != nil {
			return err
		}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		runs, err := api.NewClient(c, cfg.TaskQueue).List(ctx, cfg.Namespace,
			api.ListFilter{Kind: *kind, Waiting: *waiting, Sleeping: *sleeping, Status: *statusFilter, Limit: *limit})
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
			case asJSON:
				writeJSON(out, struct {
					api.RunSummary
					URL string `json:"url"`
				}{r, cfg.WorkflowURL(r.WorkflowID, r.RunID)})
			default:
				step := r.Step
				if r.SleepingUntil != nil {
					step = "sleeping until " + r.SleepingUntil.UTC().Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(out, "%-44s %-15s %-10s %-22s %s\n", r.WorkflowID, r.Kind, r.Status, step, r.Started.Format("2006-01-02 15:04:05"))
			}
		}
		return nil
	}
	return cmd
}
