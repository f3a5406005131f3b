package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/text"
	"github.com/tandemhq/tandem/runs"
)

// watchCmd follows a run live: each step as it changes, pending decisions, an
// agent's turns and tokens, and the result when it ends.
func watchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "watch WORKFLOW-ID",
		Short:   "Follow a run live: steps, decisions, an agent's turns and tokens, the result",
		Example: "  starter watch agent-3f2a…",
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		c, id, err := openRun(ctx, cfg, "watch", args)
		if err != nil {
			return err
		}
		defer c.Close()
		run := c.GetWorkflow(ctx, id, "")
		done := make(chan error, 1)
		var raw json.RawMessage
		go func() { done <- run.Get(ctx, &raw) }()
		start := time.Now()
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		var lastStep, lastQuestion, lastLive string
		shownTurn := 0
		for {
			select {
			case err := <-done:
				st, _ := queryStatus(ctx, c, id)
				if err != nil {
					fmt.Fprintf(out, "%6s  ✘ failed: %s\n", since(start), errorSentence(err))
					return runFailed(id, err)
				}
				fmt.Fprintf(out, "%6s  ended\n", since(start))
				printResult(out, st.Kind, id, raw)
				fmt.Fprintf(out, "  %s\n", cfg.WorkflowURL(id, run.GetRunID()))
				return nil
			case <-tick.C:
				st, err := queryStatus(ctx, c, id)
				if err != nil {
					continue
				}
				if st.Step != lastStep {
					lastStep = st.Step
					fmt.Fprintf(out, "%6s  %s\n", since(start), st.Step)
				}
				if st.Pending != nil && st.Pending.Question != lastQuestion {
					lastQuestion = st.Pending.Question
					fmt.Fprintf(out, "%6s  ⏸ ", since(start))
					printPending(out, "", st.Pending)
				}
				if st.Kind == "agent" {
					shownTurn = watchAgent(ctx, c, id, start, shownTurn, out)
				}
				if live := liveOutput(ctx, c, id); live != "" && live != lastLive {
					lastLive = live
					fmt.Fprintf(out, "%6s  … %s\n", since(start), text.Terminal(live))
				}
			}
		}
	}
	return cmd
}

// liveOutput is what a model is writing for the run now, from the
// heartbeat of its model call in progress; "" when none is.
func liveOutput(ctx context.Context, c client.Client, id string) string {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return ""
	}
	dec, err := newPayloadDecoder()
	if err != nil {
		return ""
	}
	for _, pa := range desc.GetPendingActivities() {
		var details string
		if raw := dec.first(pa.GetHeartbeatDetails()); modelActivities[pa.GetActivityType().GetName()] && raw != nil &&
			json.Unmarshal(raw, &details) == nil && strings.HasPrefix(details, activities.HeartbeatGenerating) {
			return details
		}
	}
	return ""
}

// watchAgent prints an agent's turns after shown, with the tokens used.
func watchAgent(ctx context.Context, c client.Client, id string, start time.Time, shown int, out io.Writer) int {
	view, err := api.NewClient(c, "").Agent(ctx, id)
	if err != nil {
		return shown
	}
	for _, t := range view.Recent {
		if t.Step > shown {
			shown = t.Step
			fmt.Fprintf(out, "%6s  %s  [%d/%d tokens]\n", since(start), oneLine(runs.RenderTurn(t), 130), view.Budget.Tokens, view.Budget.MaxTokens)
		}
	}
	return shown
}

// resultCmd waits for a run to end and prints its result.
func resultCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "result WORKFLOW-ID",
		Short:   "Wait for a run to end and print its result",
		Example: "  starter result ticket-routing-9b1e…",
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		asJSON := a.json()
		c, id, err := openRun(ctx, cfg, "result", args)
		if err != nil {
			return err
		}
		defer c.Close()
		var raw json.RawMessage
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, &raw); err != nil {
			return runFailed(id, err)
		}
		if asJSON {
			_, err := out.Write(append(raw, '\n'))
			return err
		}
		st, _ := queryStatus(ctx, c, id)
		printResult(out, st.Kind, id, raw)
		return nil
	}
	return cmd
}

func since(start time.Time) string {
	return time.Since(start).Round(100 * time.Millisecond).String()
}

// progress reports on stderr, when it is a terminal, how many runs are still
// going and for how long, until stop is called.
func progress(total int, remaining func() int) (stop func()) {
	if !stderrIsTerminal() {
		return func() {}
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(os.Stderr, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "\r\033[K… %d of %d runs still going · %s", remaining(), total, since(start))
			}
		}
	}()
	return func() { close(done) }
}

// stderrIsTerminal reports whether progress lines on stderr reach a person.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openRun dials Temporal for a command that takes one workflow id, and
// checks that the run exists.
func openRun(ctx context.Context, cfg config.Config, name string, args []string) (client.Client, string, error) {
	if len(args) != 1 {
		return nil, "", usageError{fmt.Errorf("%s needs one workflow id; find it with `starter list`", name)}
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	if err := runExists(ctx, c, cfg, args[0]); err != nil {
		c.Close()
		return nil, "", err
	}
	return c, args[0], nil
}

// runExists refuses, as a usage error, an id no run has.
func runExists(ctx context.Context, c client.Client, cfg config.Config, id string) error {
	_, err := c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return usageError{fmt.Errorf("there is no run %s in namespace %s; find runs with `starter list`", id, cfg.Namespace)}
	}
	if err != nil {
		return fmt.Errorf("look up run %s: %w", id, err)
	}
	return nil
}
