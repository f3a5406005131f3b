package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// complianceCmd runs compliance monitoring over a period.
func complianceCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compliance",
		Short: "Run compliance monitoring over a period and write its report",
		Example: `  starter compliance
  starter compliance --from 2026-11-01 --to 2026-11-08 --sample 5`,
		Args: args(0, 0, "compliance takes no arguments; give the period with --from and --to"),
	}
	from := cmd.Flags().String("from", "", "start of the period, YYYY-MM-DD or RFC 3339 (default: 7 days before --to)")
	to := cmd.Flags().String("to", "", "end of the period, excluded (default: now)")
	sample := cmd.Flags().Int("sample", 0, "unflagged records the model also reviews (default 3)")
	sandboxed := sandboxFlag(cmd.Flags())
	wait := cmd.Flags().Bool("wait", true, "wait for the report")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return compliance(cmd.Context(), a, *from, *to, *sample, *sandboxed, *wait, cmd.OutOrStdout())
	}
	return cmd
}

func compliance(ctx context.Context, a *app, from, to string, sample int, sandboxed, wait bool, out io.Writer) error {
	cfg := a.cfg
	in := workflows.ComplianceInput{SampleSize: sample, Model: modelSettings(cfg)}
	var err error
	if in.From, err = parseTime("--from", from); err != nil {
		return usageError{err}
	}
	if in.To, err = parseTime("--to", to); err != nil {
		return usageError{err}
	}
	if !in.From.IsZero() && !in.To.IsZero() && !in.From.Before(in.To) {
		return usageError{fmt.Errorf("--from %s is not before --to %s", from, to)}
	}
	return runJobs(ctx, cfg, []job{{sandbox: sandboxed, source: "compliance",
		kind: "compliance", input: in}}, wait, a.json(), out, printCompliance)
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a date like 2026-11-01 or a time like 2026-11-01T08:00:00Z", flag, s)
}

func printCompliance(out io.Writer, _, id string, res workflows.ComplianceResult) {
	rep := res.Report
	concerns := 0
	for _, f := range rep.Findings {
		if f.Concern {
			concerns++
		}
	}
	fmt.Fprintf(out, "✔ compliance  %s\n  period %s · %d records · %d rule hits · %d model findings (%d concerns)\n",
		id, rep.Period, rep.RecordsChecked, len(rep.Hits), len(rep.Findings), concerns)
	for rule, n := range rep.HitsPerRule {
		fmt.Fprintf(out, "  %-38s %d\n", rule, n)
	}
	for _, g := range rep.ReviewGaps {
		fmt.Fprintf(out, "  not reviewed: %s\n", oneLine(g, 100))
	}
	fmt.Fprintf(out, "  report: %s and %s\n", res.Location.Markdown, res.Location.JSON)
}

// ComplianceScheduleID is the id of the compliance monitoring schedule.
const ComplianceScheduleID = "tandem-compliance"

// scheduleCmd manages the compliance monitoring schedule.
func scheduleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:       "schedule create|describe|pause|unpause|trigger|delete",
		Short:     "Create, describe, pause, unpause, trigger or delete the compliance schedule",
		Example:   "  starter schedule create --every 24h\n  starter schedule pause --note \"quarter-end freeze\"\n  starter schedule trigger",
		ValidArgs: []string{"create", "describe", "pause", "unpause", "trigger", "delete"},
		Args:      args(1, 1, "schedule needs one action: create, describe, pause, unpause, trigger or delete"),
	}
	every := cmd.Flags().Duration("every", 24*time.Hour, "how often compliance monitoring runs (create)")
	id := cmd.Flags().String("id", ComplianceScheduleID, "schedule id")
	note := cmd.Flags().String("note", "", "why, for pause and unpause")
	cmd.RunE = func(cmd *cobra.Command, action []string) error {
		return schedule(cmd.Context(), a.cfg, action[0], *every, *id, *note, cmd.OutOrStdout())
	}
	return cmd
}

func schedule(ctx context.Context, cfg config.Config, action string, every time.Duration, id, note string, out io.Writer) error {
	c, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	handle := c.ScheduleClient().GetHandle(ctx, id)
	switch action {
	case "create":
		_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:   id,
			Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}},
			Action: &client.ScheduleWorkflowAction{
				ID:                    "compliance-scheduled",
				Workflow:              runs.ComplianceMonitoringName,
				Args:                  []any{workflows.ComplianceInput{Model: modelSettings(cfg)}},
				TaskQueue:             cfg.TaskQueue,
				TypedSearchAttributes: temporal.NewSearchAttributes(runs.KindKey.ValueSet("compliance")),
			},
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		})
		if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			fmt.Fprintf(out, "Schedule %s already exists; nothing changed.\n", id)
			return nil
		}
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
		fmt.Fprintf(out, "Created schedule %s: compliance monitoring every %s.\n", id, every)
	case "describe":
		desc, err := handle.Describe(ctx)
		if err != nil {
			return scheduleError(id, err)
		}
		state := "active"
		if desc.Schedule.State.Paused {
			state = "paused (" + desc.Schedule.State.Note + ")"
		}
		fmt.Fprintf(out, "Schedule %s: %s, %d runs so far\n", id, state, desc.Info.NumActions)
		for _, t := range desc.Info.NextActionTimes[:min(3, len(desc.Info.NextActionTimes))] {
			fmt.Fprintf(out, "  next run %s\n", t.UTC().Format(time.RFC3339))
		}
		for _, r := range desc.Info.RecentActions {
			fmt.Fprintf(out, "  ran %s: %s\n", r.ActualTime.UTC().Format(time.RFC3339), r.StartWorkflowResult.WorkflowID)
		}
	case "pause":
		if err := handle.Pause(ctx, client.SchedulePauseOptions{Note: cmp.Or(note, "paused from the starter")}); err != nil {
			return scheduleError(id, err)
		}
		fmt.Fprintf(out, "Paused schedule %s.\n", id)
	case "unpause":
		if err := handle.Unpause(ctx, client.ScheduleUnpauseOptions{Note: cmp.Or(note, "unpaused from the starter")}); err != nil {
			return scheduleError(id, err)
		}
		fmt.Fprintf(out, "Unpaused schedule %s.\n", id)
	case "trigger":
		if err := handle.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}); err != nil {
			return scheduleError(id, err)
		}
		fmt.Fprintf(out, "Triggered schedule %s; see `starter list --kind compliance`.\n", id)
	case "delete":
		if err := handle.Delete(ctx); err != nil {
			return scheduleError(id, err)
		}
		fmt.Fprintf(out, "Deleted schedule %s.\n", id)
	default:
		return usageError{fmt.Errorf("schedule action %q is not one of create, describe, pause, unpause, trigger, delete", action)}
	}
	return nil
}

func scheduleError(id string, err error) error {
	// A deleted schedule answers like the finished workflow behind it.
	if msg := strings.ToLower(err.Error()); strings.Contains(msg, "not found") || strings.Contains(msg, "already completed") {
		return usageError{fmt.Errorf("there is no schedule %s; create it with `starter schedule create`", id)}
	}
	return fmt.Errorf("schedule %s: %w", id, err)
}
