package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/temporalclient"
	"github.com/tandemhq/tandem/workflows"
)

func routeTicket(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlagSet("route-ticket", "FILE... | -", &cfg)
	asJSON := fs.Bool("json", false, "print results as JSON lines")
	wait := fs.Bool("wait", true, "wait for each run and print its result")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("route-ticket needs at least one ticket file, or - to read one from stdin")}
	}
	tickets := make([]workflows.Ticket, fs.NArg())
	for i, name := range fs.Args() {
		t, err := readTicket(name)
		if err != nil {
			return usageError{err}
		}
		tickets[i] = t
	}

	c, err := temporalclient.Dial(ctx, cfg, zap.NewNop())
	if err != nil {
		return err
	}
	defer c.Close()

	runs := make([]client.WorkflowRun, len(tickets))
	for i, t := range tickets {
		runs[i], err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                    ticketWorkflowID(t),
			TaskQueue:             cfg.TaskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.KindKey.ValueSet("ticket-routing")),
		}, workflows.TicketRoutingName, workflows.TicketRoutingInput{
			Ticket: t,
			Model:  workflows.ModelSettings{Model: cfg.Model, TaskQueue: cfg.ModelTaskQueue},
		})
		if err != nil {
			return fmt.Errorf("start ticket routing for %s: %w", fs.Arg(i), err)
		}
	}
	if !*wait {
		for i, r := range runs {
			printStarted(out, *asJSON, fs.Arg(i), r, cfg)
		}
		return nil
	}

	results := make([]workflows.TicketRoutingResult, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() { errs[i] = r.Get(ctx, &results[i]) })
	}
	wg.Wait()
	failed := 0
	for i, r := range runs {
		if errs[i] != nil {
			failed++
		}
		printTicketResult(out, *asJSON, fs.Arg(i), r, cfg, results[i], errs[i])
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d ticket routings failed", failed, len(runs))
	}
	return nil
}

// readTicket reads one ticket from a JSON file, or from stdin for "-".
func readTicket(name string) (workflows.Ticket, error) {
	var data []byte
	var err error
	if name == "-" {
		name = "stdin"
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return workflows.Ticket{}, fmt.Errorf("ticket file %s does not exist", name)
	case err != nil:
		return workflows.Ticket{}, fmt.Errorf("cannot read ticket file %s: %v", name, err)
	case len(bytes.TrimSpace(data)) == 0:
		return workflows.Ticket{}, fmt.Errorf("ticket file %s is empty; it should hold one JSON object with subject, body, customer and channel", name)
	}
	var t workflows.Ticket
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, fmt.Errorf("ticket file %s is not a JSON ticket (%v); it should hold one object with subject, body, customer and channel", name, err)
	}
	if err := t.Validate(); err != nil {
		return t, fmt.Errorf("ticket file %s: %v", name, err)
	}
	return t, nil
}

// ticketWorkflowID names a run after its customer and the time it started.
func ticketWorkflowID(t workflows.Ticket) string {
	return fmt.Sprintf("ticket-%s-%s", slug(t.Customer), strings.ToLower(fmt.Sprintf("%x", time.Now().UnixNano())[6:]))
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 24 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func printTicketResult(out io.Writer, asJSON bool, source string, run client.WorkflowRun, cfg config.Config, res workflows.TicketRoutingResult, err error) {
	link := cfg.WorkflowURL(run.GetID(), run.GetRunID())
	if asJSON {
		line := map[string]any{"source": source, "workflowId": run.GetID(), "runId": run.GetRunID(), "url": link}
		if err != nil {
			line["error"] = errorSentence(err)
		} else {
			line["result"] = res
		}
		writeJSON(out, line)
		return
	}
	if err != nil {
		fmt.Fprintf(out, "✘ %s  %s\n  %s\n  %s\n\n", source, run.GetID(), errorSentence(err), link)
		return
	}
	c := res.Classification
	fmt.Fprintf(out, "✔ %s  %s\n", source, run.GetID())
	fmt.Fprintf(out, "  %s / %s / %s → queue %s (SLA %s)\n", c.Category, c.Priority, c.Sentiment, res.Route.Queue, minutes(res.Route.SLAMinutes))
	fmt.Fprintf(out, "  summary:  %s\n", oneLine(c.Summary, 100))
	fmt.Fprintf(out, "  reply:    %s\n", oneLine(res.DraftReply, 100))
	fmt.Fprintf(out, "  language: %s · classified by %s\n", c.Language, oneLine(res.ClassifiedBy, 80))
	fmt.Fprintf(out, "  model:    %s\n", modelCallsLine(res.ModelCalls))
	fmt.Fprintf(out, "  %s\n\n", link)
}
