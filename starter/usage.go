package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/temporalclient"
)

// usageCmd adds up what runs used: per kind, per model and per agent
// profile.
func usageCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Add up runs, tokens, model time, people's decisions and failures per kind, model and agent profile",
		Long: "Adds up the usage every run keeps in its memo, for the runs on the task queue started within --since: " +
			"runs, tokens in and out, model time, decisions people took, time waiting for them, and the failure rate.",
		Example: "  starter usage\n  starter usage --since 30d --kind agent -o json",
	}
	since := cmd.Flags().String("since", "7d", "runs started within this long: 12h, 7d, 4w")
	kind := kindFlag(cmd)
	cmd.Args = args(0, 0, "usage takes no arguments; filter with --since and --kind")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		window, err := parseSince(*since)
		if err != nil {
			return usageError{err}
		}
		if err := checkKind(*kind); err != nil {
			return err
		}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		tc := api.NewClient(c, cfg.TaskQueue)
		if tc.DataConverter, _, err = temporalclient.Converters(); err != nil {
			return err
		}
		rep, err := tc.Usage(ctx, cfg.Namespace, api.UsageFilter{Since: time.Now().Add(-window), Kind: *kind})
		if err != nil {
			return err
		}
		if a.json() {
			writeJSON(out, rep)
			return nil
		}
		fmt.Fprintf(out, "Runs on task queue %s since %s\n\n", cfg.TaskQueue, rep.Since.Format("2006-01-02 15:04 UTC"))
		if len(rep.Kinds) == 0 {
			fmt.Fprintln(out, "No runs.")
			return nil
		}
		printTotals(out, "kind", rep.Kinds)
		if len(rep.Profiles) > 0 {
			fmt.Fprintln(out)
			printTotals(out, "agent profile", rep.Profiles)
		}
		fmt.Fprintf(out, "\n%-28s %7s %11s %11s %10s  %s\n", "model", "calls", "tokens in", "tokens out", "time", "valid agent decisions")
		for _, name := range slices.Sorted(maps.Keys(rep.Models)) {
			m := rep.Models[name]
			valid := "-"
			if m.Steps > 0 {
				valid = fmt.Sprintf("%d of %d (%.0f%%)", m.Valid, m.Steps, 100*float64(m.Valid)/float64(m.Steps))
			}
			fmt.Fprintf(out, "%-28s %7d %11d %11d %10s  %s\n", name, m.Calls, m.TokensIn, m.TokensOut, m.Time.Round(time.Second), valid)
		}
		return nil
	}
	return cmd
}

func printTotals(out io.Writer, by string, totals map[string]*api.UsageTotals) {
	fmt.Fprintf(out, "%-16s %6s %8s %11s %11s %10s %10s %10s\n", by, "runs", "failed", "tokens in", "tokens out", "model", "decisions", "waited")
	for _, name := range slices.Sorted(maps.Keys(totals)) {
		t := totals[name]
		fmt.Fprintf(out, "%-16s %6d %7.0f%% %11d %11d %10s %10d %10s\n", name, t.Runs, 100*t.FailureRate(), t.TokensIn, t.TokensOut,
			t.ModelTime.Round(time.Second), t.Decisions, t.Waited.Round(time.Second))
	}
}

// parseSince reads a window such as 90m, 12h, 7d or 4w.
func parseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			if v, err := strconv.Atoi(n); err == nil && v > 0 {
				return time.Duration(v) * unit, nil
			}
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, errors.New("--since takes a positive length such as 90m, 12h, 7d or 4w, not " + strconv.Quote(s))
}
