package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// decideCmd returns the command that sends one kind of decision: approve,
// reject, or edit (approve with replacement text).
func decideCmd(a *app, verb string) *cobra.Command {
	short := map[string]string{
		"approve": "Approve the decision a run is waiting for",
		"reject":  "Reject the decision a run is waiting for, with a reason",
		"edit":    "Approve a run's pending draft or tool call with edited text",
	}[verb]
	example := map[string]string{
		"approve": "  starter approve invoice-0a4c… --by ap.clerk --wait",
		"reject":  "  starter reject invoice-0a4c… --by ap.clerk --reason \"the PO amount does not match\"",
		"edit":    "  starter edit ticket-routing-9b1e… --by support.agent --text \"Thank you, we are on it.\"",
	}[verb]
	cmd := &cobra.Command{Use: verb + " WORKFLOW-ID", Short: short, Example: example,
		Args: args(1, 1, verb+" needs one workflow id; find it with `starter list --waiting`")}
	by := cmd.Flags().String("by", "", "who decides (required)")
	reason := cmd.Flags().String("reason", "", "why (required to reject)")
	text := new(string)
	if verb == "edit" {
		text = cmd.Flags().String("text", "", "the edited text to approve (required)")
	}
	wait := cmd.Flags().Bool("wait", false, "wait until the run completes or waits again, and print its result")
	hash := cmd.Flags().String("hash", "", "the hash `starter status` showed: the decision is refused if what waits has changed since")
	always := new(bool)
	if verb == "approve" {
		always = cmd.Flags().Bool("always", false, "for an agent's tool call: let the tool through for the rest of the run")
	}
	cmd.RunE = func(cmd *cobra.Command, ids []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		switch {
		case strings.TrimSpace(*by) == "":
			return usageError{fmt.Errorf("%s needs --by with the name of the person deciding", verb)}
		case verb == "reject" && strings.TrimSpace(*reason) == "":
			return usageError{errors.New("reject needs --reason saying why")}
		case verb == "edit" && strings.TrimSpace(*text) == "":
			return usageError{errors.New("edit needs --text with the edited text")}
		}
		id := ids[0]
		dec := runs.Decision{Approve: verb != "reject", By: *by, Reason: *reason, Edit: *text, Hash: *hash, Always: *always}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := sendDecision(ctx, c, cfg, id, dec); err != nil {
			return err
		}
		if !*wait {
			if a.json() {
				writeJSON(out, map[string]any{"workflowId": id, "decision": dec})
			} else {
				fmt.Fprintf(out, "%s: %s by %s\n", id, map[string]string{"approve": "approved", "reject": "rejected", "edit": "approved with an edit"}[verb], dec.By)
			}
			return nil
		}
		return showRun(ctx, c, cfg, id, true, a.json(), out)
	}
	return cmd
}

// sendDecision delivers a decision through the decide Update and turns the
// ways it can be refused into one sentence each.
func sendDecision(ctx context.Context, c client.Client, cfg config.Config, id string, dec runs.Decision) error {
	if err := runExists(ctx, c, cfg, id); err != nil {
		return err
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return fmt.Errorf("look up run %s: %w", id, err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st.String() != "Running" {
		return usageError{fmt.Errorf("run %s is already closed (%s); there is nothing left to decide", id, st)}
	}
	if err := api.NewClient(c, cfg.TaskQueue).Decide(ctx, id, dec); err != nil {
		return usageError{refusedBy(id, "the decision", err)}
	}
	return nil
}

// refusedBy is a run's refusal of what was sent to it, as one sentence.
func refusedBy(id, what string, err error) error {
	return fmt.Errorf("run %s refused %s: %s", id, what, strings.TrimPrefix(err.Error(), api.ErrRefused.Error()+": "))
}

// showRun prints a run's state; with wait it first waits until the run
// completes or stops at a pending decision.
func showRun(ctx context.Context, c client.Client, cfg config.Config, id string, wait, asJSON bool, out io.Writer) error {
	run := c.GetWorkflow(ctx, id, "")
	var raw json.RawMessage
	var pending *runs.PendingDecision
	var runErr error
	var waits []string
	if wait {
		pending, runErr = waitForRun(ctx, c, run, &raw)
	} else {
		desc, err := c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return fmt.Errorf("look up run %s: %w", id, err)
		}
		if desc.GetWorkflowExecutionInfo().GetStatus().String() != "Running" {
			runErr = run.Get(ctx, &raw)
		}
		waits = modelWaits(desc)
	}
	st, qerr := queryStatus(ctx, c, id)
	if pending == nil && qerr == nil {
		pending = st.Pending
	}
	link := cfg.WorkflowURL(run.GetID(), run.GetRunID())
	if asJSON {
		line := map[string]any{"workflowId": id, "runId": run.GetRunID(), "url": link, "status": st}
		if len(waits) > 0 {
			line["modelWaits"] = waits
		}
		if runErr != nil {
			line["error"] = errorSentence(runErr)
		} else if len(raw) > 0 {
			line["result"] = raw
		}
		writeJSON(out, line)
		return runFailed(id, runErr)
	}
	switch {
	case runErr != nil:
		fmt.Fprintf(out, "✘ %s  (%s) failed: %s\n", id, st.Kind, errorSentence(runErr))
	case len(raw) > 0:
		printResult(out, st.Kind, id, raw)
	default:
		fmt.Fprintf(out, "%s  (%s)\n  step: %s\n", id, st.Kind, st.Step)
		if st.SleepingUntil != nil {
			fmt.Fprintf(out, "  sleeping until %s; an event wakes it early (starter event %s NAME)\n", st.SleepingUntil.UTC().Format("2006-01-02 15:04:05 MST"), id)
		}
		for _, w := range waits {
			fmt.Fprintf(out, "  model: %s\n", w)
		}
		if pending != nil {
			printPending(out, "  ", pending)
		} else {
			for _, c := range st.Checks {
				fmt.Fprintf(out, "  %s\n", oneLine(c.Line(), 200))
			}
		}
	}
	fmt.Fprintf(out, "  %s\n", link)
	return runFailed(id, runErr)
}

// modelWaits says, for each model call of the run that is waiting out a
// failing model server or being retried, what it waits for.
func modelWaits(desc *workflowservice.DescribeWorkflowExecutionResponse) []string {
	dec, err := newPayloadDecoder()
	if err != nil {
		return nil
	}
	var out []string
	for _, pa := range desc.GetPendingActivities() {
		if !modelActivities[pa.GetActivityType().GetName()] {
			continue
		}
		var details string
		if raw := dec.first(pa.GetHeartbeatDetails()); raw != nil {
			_ = json.Unmarshal(raw, &details)
		}
		switch {
		case strings.HasPrefix(details, activities.HeartbeatWaiting):
			out = append(out, details)
		case pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED && pa.GetAttempt() <= 1:
			out = append(out, fmt.Sprintf("%s call queued for a model worker since %s", pa.GetActivityType().GetName(),
				pa.GetScheduledTime().AsTime().UTC().Format(time.TimeOnly)))
		case pa.GetAttempt() > 1:
			why := pa.GetLastFailure().GetMessage()
			out = append(out, fmt.Sprintf("%s call on attempt %d, retrying after: %s", pa.GetActivityType().GetName(), pa.GetAttempt(), why))
		}
	}
	return out
}

// runFailed is the starter's one-sentence error for a failed run.
func runFailed(id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("run %s failed: %s", id, errorSentence(err))
}

// printResult prints a completed run's result the way its own command does.
func printResult(out io.Writer, kind, id string, raw json.RawMessage) {
	var ok bool
	switch kind {
	case "ticket-routing":
		ok = printAs(out, id, raw, printTicket)
	case "invoice":
		ok = printAs(out, id, raw, printInvoice)
	case "leave":
		ok = printAs(out, id, raw, printLeave)
	case "compliance":
		ok = printAs(out, id, raw, printCompliance)
	case "agent":
		ok = printAs(out, id, raw, func(out io.Writer, _, id string, res workflows.AgentResult) { printAgent(out, id, res) })
	}
	if !ok {
		fmt.Fprintf(out, "  result: %s\n", oneLine(string(raw), 200))
	}
}

// printAs decodes a result as R and prints it; false when it does not decode.
func printAs[R any](out io.Writer, id string, raw json.RawMessage, print func(out io.Writer, source, id string, res R)) bool {
	var res R
	if json.Unmarshal(raw, &res) != nil {
		return false
	}
	print(out, "", id, res)
	return true
}
