package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// routeTicketCmd routes support tickets.
func routeTicketCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "route-ticket FILE... | -",
		Short: "Route support tickets from JSON files (or - for stdin) and print the results",
		Example: `  starter route-ticket testdata/tickets/outage.json
  starter route-ticket -o json testdata/tickets/*.json
  echo '{"subject":"Late","body":"Where is my parcel?","customer":"Camille Martin","channel":"web"}' | starter route-ticket -`,
		Args: args(1, -1, "route-ticket needs at least one ticket file, or - to read one from stdin"),
	}
	sandboxed := sandboxFlag(cmd.Flags())
	wait := cmd.Flags().Bool("wait", true, "wait for each run and print its result")
	cmd.RunE = func(cmd *cobra.Command, files []string) error {
		return routeTicket(cmd.Context(), a, files, *sandboxed, *wait, cmd.OutOrStdout())
	}
	return cmd
}

func routeTicket(ctx context.Context, a *app, files []string, sandboxed, wait bool, out io.Writer) error {
	cfg := a.cfg
	jobs := make([]job, len(files))
	for i, name := range files {
		t, err := readTicket(name)
		if err != nil {
			return usageError{err}
		}
		jobs[i] = job{sandbox: sandboxed, source: name, kind: "ticket-routing",
			input:    workflows.TicketRoutingInput{Ticket: t, Model: modelSettings(cfg)},
			personal: []temporal.SearchAttributeUpdate{runs.CustomerKey.ValueSet(t.Customer)}}
	}
	return runJobs(ctx, cfg, jobs, wait, a.json(), out, printTicket)
}

// readTicket reads one ticket from a JSON file, or from stdin for "-".
func readTicket(name string) (workflows.Ticket, error) {
	const shape = "subject, body, customer and channel"
	var t workflows.Ticket
	data, name, err := readInput("ticket file", name)
	if err != nil {
		if strings.HasSuffix(err.Error(), "is empty") {
			return t, fmt.Errorf("%v; it should hold one JSON object with %s", err, shape)
		}
		return t, err
	}
	if err := decodeJSONInput("ticket", name, data, &t, shape); err != nil {
		return t, err
	}
	if err := t.Validate(); err != nil {
		return t, fmt.Errorf("ticket file %s: %v", name, err)
	}
	return t, nil
}

func printTicket(out io.Writer, source, id string, res workflows.TicketRoutingResult) {
	c := res.Classification
	fmt.Fprintf(out, "%s\n", strings.Join(nonEmpty("✔", source, id), "  "))
	fmt.Fprintf(out, "  %s / %s / %s → queue %s (SLA %s)\n", c.Category, c.Priority, c.Sentiment, res.Route.Queue, minutes(res.Route.SLAMinutes))
	fmt.Fprintf(out, "  summary:  %s\n", oneLine(c.Summary, 100))
	fmt.Fprintf(out, "  reply:    %s\n", oneLine(res.DraftReply, 100))
	fmt.Fprintf(out, "  language: %s · classified by %s\n", c.Language, oneLine(res.ClassifiedBy, 80))
	if r := res.Review; r != nil {
		sent := "sent to " + oneLine(r.Recipient, 80)
		if res.Sandbox {
			sent = "recorded for " + oneLine(r.Recipient, 80) + " (sandbox, not sent)"
		}
		switch {
		case r.Unsent != "":
			fmt.Fprintf(out, "  review:   not sent: %s\n", oneLine(r.Unsent, 120))
		case r.Decision == nil:
			fmt.Fprintf(out, "  review:   not needed; reply %s\n", sent)
		case r.Edited:
			fmt.Fprintf(out, "  review:   edited by %s; reply %s\n", r.Decision.By, sent)
		case r.Sent:
			fmt.Fprintf(out, "  review:   approved by %s; reply %s\n", r.Decision.By, sent)
		default:
			fmt.Fprintf(out, "  review:   rejected by %s (%s); not sent\n", r.Decision.By, oneLine(r.Decision.Reason, 80))
		}
	}
	fmt.Fprintf(out, "  model:    %s\n", modelCallsLine(res.ModelCalls))
}
