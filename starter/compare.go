package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// way is one way of doing a comparison's task: a fixed workflow or an agent.
type way struct {
	Name    string                       // "workflow" or "agent"
	Runs    string                       // what runs, such as TicketRouting or Agent customer-service
	job     func(n int) job              // the n-th run's job
	outcome func(json.RawMessage) string // a run's outcome in a few words, from its result
}

// compareCmd runs one task through its fixed workflow and through an agent, N
// times each, and reports them side by side.
func compareCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "compare ticket FILE | invoice FILE",
		Short:   "Run a task through its workflow and through an agent N times each, and compare them side by side",
		Example: "  starter compare ticket testdata/tickets/double-charge.json -n 3\n  starter compare invoice testdata/invoices/clean-under-threshold.txt --decide reject",
	}
	runs := cmd.Flags().IntP("runs", "n", 3, "runs of each way")
	dir := cmd.Flags().String("out", "", "`folder` for compare.md, compare.json and compare.svg (default reports/compare-KIND-TIME)")
	live := cmd.Flags().Bool("live", false, "perform side effects; by default runs are sandboxed")
	answer := cmd.Flags().String("decide", "approve", "how to answer each decision a run waits for: approve or reject")
	timeout := cmd.Flags().Duration("timeout", 30*time.Minute, "bound on each run")
	budget := agentBudgetFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		asJSON := a.json()
		if len(args) != 2 {
			return usageError{errors.New("compare needs a task kind and a file: compare ticket FILE, or compare invoice FILE")}
		}
		if *runs < 1 || *runs > 50 {
			return usageError{fmt.Errorf("-n is %d; compare runs each way 1 to 50 times", *runs)}
		}
		if *answer != "approve" && *answer != "reject" {
			return usageError{fmt.Errorf("--decide is %q; give approve or reject", *answer)}
		}
		kind, source := args[0], args[1]
		ways, err := comparisonWays(cfg, kind, source, !*live, budget())
		if err != nil {
			return usageError{err}
		}
		if *dir == "" {
			*dir = filepath.Join(cfg.ReportsDir, fmt.Sprintf("compare-%s-%s", kind, time.Now().Format("20060102-150405")))
		}

		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		dec, err := newPayloadDecoder()
		if err != nil {
			return err
		}
		cmp := Comparison{Task: kind, Source: source, Model: cfg.Model, RunsEach: *runs, Sandboxed: !*live, Answered: *answer, At: time.Now().UTC()}
		for _, w := range ways {
			side := Side{Way: w.Name, Runs: w.Runs}
			for n := 1; n <= *runs; n++ {
				if stderrIsTerminal() {
					fmt.Fprintf(os.Stderr, "\r\033[K… %s run %d of %d", w.Name, n, *runs)
				}
				m, err := runAndMeasure(ctx, c, cfg, dec, w, n, *answer, *timeout)
				if err != nil {
					return err
				}
				side.Measures = append(side.Measures, m)
			}
			if stderrIsTerminal() {
				fmt.Fprint(os.Stderr, "\r\033[K")
			}
			cmp.Sides = append(cmp.Sides, side.summarise())
		}
		if err := cmp.write(*dir); err != nil {
			return err
		}
		if asJSON {
			writeJSON(out, cmp)
			return nil
		}
		fmt.Fprint(out, cmp.table())
		fmt.Fprintf(out, "\nwritten: %s, %s, %s\n", filepath.Join(*dir, "compare.md"), filepath.Join(*dir, "compare.json"), filepath.Join(*dir, "compare.svg"))
		return nil
	}
	return cmd
}

// comparisonWays are the two ways of doing a task of kind from source; the
// agent's budgets are narrowed to budget's, when given.
func comparisonWays(cfg config.Config, kind, source string, sandboxed bool, budget *workflows.AgentPolicy) ([]way, error) {
	stamp := strings.ToLower(fmt.Sprintf("%x", time.Now().UnixNano())[6:])
	id := func(w string, n int) string { return fmt.Sprintf("compare-%s-%s-%s-%d", kind, stamp, w, n) }
	agentJob := func(profile, goal string) func(n int) job {
		return func(n int) job {
			return job{sandbox: sandboxed, source: source, key: id("agent", n), kind: "agent",
				input: workflows.AgentInput{Goal: goal, Profile: profile, Policy: budget, Model: modelSettings(cfg)},
				memo:  map[string]any{"profile": profile, "comparison": stamp}}
		}
	}
	switch kind {
	case "ticket":
		t, err := readTicket(source)
		if err != nil {
			return nil, err
		}
		goal := fmt.Sprintf("Resolve this support ticket from %s (%s).\nSubject: %s\n\n%s", t.Customer, t.Channel, t.Subject, t.Body)
		return []way{
			{Name: "workflow", Runs: runs.TicketRoutingName, outcome: ticketOutcome,
				job: func(n int) job {
					return job{sandbox: sandboxed, source: source, key: id("workflow", n), kind: "ticket-routing",
						input: workflows.TicketRoutingInput{Ticket: t, Model: modelSettings(cfg)}, memo: map[string]any{"comparison": stamp}}
				}},
			{Name: "agent", Runs: "Agent customer-service", outcome: agentOutcome, job: agentJob("customer-service", goal)},
		}, nil
	case "invoice":
		data, source, err := readInput("invoice file", source)
		if err != nil {
			return nil, err
		}
		goal := "Handle this incoming document:\n\n" + string(data)
		return []way{
			{Name: "workflow", Runs: runs.InvoiceProcessingName, outcome: invoiceOutcome,
				job: func(n int) job {
					return job{sandbox: sandboxed, source: source, key: id("workflow", n), kind: "invoice",
						input: workflows.InvoiceInput{Document: string(data), Model: modelSettings(cfg)}, memo: map[string]any{"comparison": stamp}}
				}},
			{Name: "agent", Runs: "Agent operations", outcome: agentOutcome, job: agentJob("operations", goal)},
		}, nil
	}
	return nil, fmt.Errorf("compare knows the tasks ticket and invoice, not %q", kind)
}

// ticketOutcome is where a routed ticket went.
func ticketOutcome(raw json.RawMessage) string {
	var r workflows.TicketRoutingResult
	if json.Unmarshal(raw, &r) != nil {
		return "unreadable result"
	}
	return fmt.Sprintf("%s/%s → %s", r.Classification.Category, r.Classification.Priority, r.Route.Queue)
}

// invoiceOutcome is an invoice's verdict.
func invoiceOutcome(raw json.RawMessage) string {
	var r workflows.InvoiceResult
	if json.Unmarshal(raw, &r) != nil {
		return "unreadable result"
	}
	if r.Approved {
		return "approved"
	}
	return "rejected"
}

// agentOutcome is how an agent ended and which tools it used.
func agentOutcome(raw json.RawMessage) string {
	var r workflows.AgentResult
	if json.Unmarshal(raw, &r) != nil {
		return "unreadable result"
	}
	var tools []string
	for _, s := range r.Trail {
		if s.Outcome == "ok" && !slices.Contains(tools, s.Tool) {
			tools = append(tools, s.Tool)
		}
	}
	slices.Sort(tools)
	if len(tools) == 0 {
		return r.Outcome + ", no tool"
	}
	return r.Outcome + ", used " + strings.Join(tools, " ")
}

// runAndMeasure starts the n-th run of a way, answers every decision it (or
// a child workflow) waits for, and measures it from its history.
func runAndMeasure(ctx context.Context, c client.Client, cfg config.Config, dec payloadDecoder, w way, n int, answer string, timeout time.Duration) (Measure, error) {
	started, err := startAll(ctx, c, cfg, []job{w.job(n)}, false, nil)
	if err != nil {
		return Measure{}, err
	}
	run := started[0].run
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run.Get(ctx, nil) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var runErr error
wait:
	for {
		select {
		case runErr = <-done:
			break wait
		case <-tick.C:
			if err := answerPending(ctx, c, run.GetID(), answer); err != nil {
				return Measure{}, err
			}
		}
	}
	if ctx.Err() != nil {
		return Measure{}, fmt.Errorf("run %s did not end within %s; raise -timeout", run.GetID(), timeout)
	}
	m, err := measureRun(ctx, c, dec, run.GetID(), run.GetRunID(), w.outcome)
	if runErr != nil {
		m.Outcome, m.Failed = "failed", errorSentence(runErr)
	}
	return m, err
}

// answerPending decides, as the first approver, whatever the run or one of
// its running child workflows is waiting for.
func answerPending(ctx context.Context, c client.Client, id, answer string) error {
	ids := []string{id}
	if desc, err := c.DescribeWorkflowExecution(ctx, id, ""); err == nil {
		for _, ch := range desc.GetPendingChildren() {
			ids = append(ids, ch.GetWorkflowId())
		}
	}
	for _, rid := range ids {
		st, err := queryStatus(ctx, c, rid)
		if err != nil || st.Pending == nil || len(st.Pending.Approvers) == 0 {
			continue
		}
		d := runs.Decision{Approve: answer == "approve", By: st.Pending.Approvers[0]}
		if !d.Approve {
			d.Reason = "rejected by starter compare"
		}
		// A refusal, or a run closed meanwhile, means it moved on; the next
		// look sees where to.
		err = api.NewClient(c, "").Decide(ctx, rid, d)
		if err != nil && !errors.Is(err, api.ErrRefused) && !errors.Is(err, api.ErrNotFound) {
			return fmt.Errorf("answer the decision %s waits for: %w", rid, err)
		}
	}
	return nil
}
