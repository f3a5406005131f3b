package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/codec"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/runs"
)

// job is one workflow run the starter starts.
type job struct {
	source string // the file or name the input came from
	key    string // idempotency key; empty: a fresh one
	kind   string // the api.Kind's name
	input  any
	memo   map[string]any // shown in the Web UI's run details
	// personal search attributes (customer, employee), set only when
	// payloads are not encrypted: search attributes never are
	personal []temporal.SearchAttributeUpdate
	sandbox  bool // side effects are recorded, not performed
}

// outcome is how far a run got while the starter waited.
type outcome struct {
	job     job
	run     client.WorkflowRun
	pending *runs.PendingDecision // waiting for a person
	err     error
}

// startAll starts every job and, with wait, waits until each run completes
// or stops at a pending decision; result decodes a completed run's result.
func startAll(ctx context.Context, c client.Client, cfg config.Config, jobs []job, wait bool, result func(i int) any) ([]outcome, error) {
	outcomes := make([]outcome, len(jobs))
	tc := &api.Client{Temporal: c, TaskQueue: cfg.TaskQueue, StartedBy: "starter"}
	encrypted := false
	if keys, _ := codec.LoadKeys(); keys != nil {
		encrypted = true
	}
	for i, j := range jobs {
		kind, err := api.KindNamed(j.kind)
		if err != nil {
			return nil, err
		}
		memo := map[string]any{"model": cfg.Model, "modelTaskQueue": cfg.ModelTaskQueue}
		maps.Copy(memo, j.memo)
		opts := api.StartOptions{Memo: memo}
		if !encrypted {
			opts.SearchAttributes = j.personal
		}
		id := api.WorkflowID(kind.Name, cmp.Or(j.key, api.NewKey()))
		run, _, err := tc.StartWith(sandbox.With(ctx, j.sandbox), kind, id, j.input, opts)
		var invalid *api.InvalidInputError
		if errors.As(err, &invalid) {
			return nil, usageError{fmt.Errorf("%s: %w", j.source, err)}
		} else if err != nil {
			return nil, fmt.Errorf("start %s for %s: %w", kind.Name, j.source, err)
		}
		outcomes[i] = outcome{job: j, run: run}
	}
	if !wait {
		return outcomes, nil
	}
	var wg sync.WaitGroup
	var left atomic.Int32
	left.Store(int32(len(outcomes)))
	stop := progress(len(outcomes), func() int { return int(left.Load()) })
	for i := range outcomes {
		wg.Go(func() {
			outcomes[i].pending, outcomes[i].err = waitForRun(ctx, c, outcomes[i].run, result(i))
			left.Add(-1)
		})
	}
	wg.Wait()
	stop()
	return outcomes, nil
}

// waitForRun waits until the run completes (decoding its result into
// valuePtr) or waits for a person's decision, which it returns.
func waitForRun(ctx context.Context, c client.Client, run client.WorkflowRun, valuePtr any) (*runs.PendingDecision, error) {
	return api.NewClient(c, "").Wait(ctx, run, valuePtr)
}

// queryStatus is a run's status Query.
func queryStatus(ctx context.Context, c client.Client, workflowID string) (runs.Status, error) {
	return api.NewClient(c, "").Status(ctx, workflowID)
}

// report prints every outcome, human-readable or as JSON lines, and returns
// an error when any run failed.
func report(out io.Writer, cfg config.Config, asJSON bool, outcomes []outcome, result func(i int) any, human func(out io.Writer, i int)) error {
	failed := 0
	for i, o := range outcomes {
		link := cfg.WorkflowURL(o.run.GetID(), o.run.GetRunID())
		if o.err != nil {
			failed++
		}
		if asJSON {
			line := map[string]any{"source": o.job.source, "workflowId": o.run.GetID(), "runId": o.run.GetRunID(), "url": link}
			switch {
			case o.err != nil:
				line["error"] = errorSentence(o.err)
			case o.pending != nil:
				line["pending"] = o.pending
			default:
				line["result"] = result(i)
			}
			writeJSON(out, line)
			continue
		}
		switch {
		case o.err != nil:
			fmt.Fprintf(out, "✘ %s  %s\n  %s\n", o.job.source, o.run.GetID(), errorSentence(o.err))
		case o.pending != nil:
			fmt.Fprintf(out, "⏸ %s  %s\n  waiting for %s: %s\n  decide: starter approve %s --by %s   (or reject … --reason …)\n",
				o.job.source, o.run.GetID(), strings.Join(o.pending.Approvers, " or "), oneLine(o.pending.Question, 200),
				o.run.GetID(), o.pending.Approvers[0])
		default:
			human(out, i)
		}
		fmt.Fprintf(out, "  %s\n\n", link)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs failed", failed, len(outcomes))
	}
	return nil
}

// errorSentence is the innermost application error's message: the sentence a
// workflow or activity wrote for people, without the SDK's wrapping.
func errorSentence(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "the run timed out: " + timeoutErr.Error()
	}
	return err.Error()
}

// runJobs starts the jobs and, with wait, prints each outcome: printed by
// print when the run completed with a result of type R.
func runJobs[R any](ctx context.Context, cfg config.Config, jobs []job, wait, asJSON bool, out io.Writer,
	print func(out io.Writer, source, id string, res R)) error {
	c, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	results := make([]R, len(jobs))
	result := func(i int) any { return &results[i] }
	outcomes, err := startAll(ctx, c, cfg, jobs, wait, result)
	if err != nil {
		return err
	}
	if !wait {
		printStarted(out, asJSON, cfg, outcomes)
		return nil
	}
	return report(out, cfg, asJSON, outcomes, result, func(out io.Writer, i int) {
		print(out, outcomes[i].job.source, outcomes[i].run.GetID(), results[i])
	})
}
