package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/text"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

func writeJSON(out io.Writer, v any) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func printStarted(out io.Writer, asJSON bool, cfg config.Config, outcomes []outcome) {
	for _, o := range outcomes {
		link := cfg.WorkflowURL(o.run.GetID(), o.run.GetRunID())
		if asJSON {
			writeJSON(out, map[string]string{"source": o.job.source, "workflowId": o.run.GetID(), "runId": o.run.GetRunID(), "url": link})
			continue
		}
		fmt.Fprintf(out, "▶ %s  started %s\n  %s\n", o.job.source, o.run.GetID(), link)
	}
}

func modelCallsLine(calls []runs.ModelCall) string {
	if len(calls) == 0 {
		return "no model calls"
	}
	var prompt, output int
	var total time.Duration
	for _, c := range calls {
		prompt += c.PromptTokens
		output += c.OutputTokens
		total += c.TotalDuration
	}
	digest := activities.ShortDigest(calls[0].Digest)
	return fmt.Sprintf("%s (%s) · %d calls · %d prompt + %d output tokens · %s",
		calls[0].Model, digest, len(calls), prompt, output, total.Round(time.Millisecond))
}

// oneLine flattens s to one line of at most n characters, escaped for the
// terminal.
func oneLine(s string, n int) string { return text.OneLine(s, n) }

// minutes prints a duration in minutes the way people say it: 45m, 4h, 3d.
func minutes(n int) string {
	switch {
	case n >= 24*60 && n%(24*60) == 0:
		return fmt.Sprintf("%dd", n/(24*60))
	case n >= 60 && n%60 == 0:
		return fmt.Sprintf("%dh", n/60)
	default:
		return fmt.Sprintf("%dm", n)
	}
}

// modelSettings is the model a run started from the starter uses.
func modelSettings(cfg config.Config) workflows.ModelSettings {
	return workflows.ModelSettings{Model: cfg.Model, TaskQueue: cfg.ModelTaskQueue}
}

// decidedBy is "who" or "who: why".
func decidedBy(by, reason string) string {
	if strings.TrimSpace(reason) == "" {
		return by
	}
	return by + ": " + oneLine(reason, 100)
}

// nonEmpty returns the non-empty strings among parts.
func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printPending prints what a person is asked: the question, the details in
// full (a message body, a recipient, a refund's order), and every check,
// each line escaped for the terminal.
func printPending(out io.Writer, indent string, p *runs.PendingDecision) {
	fmt.Fprintf(out, "%swaiting for %s since %s: %s\n", indent, strings.Join(p.Approvers, " or "),
		p.Since.UTC().Format("2006-01-02 15:04 UTC"), text.Terminal(p.Question))
	if p.Details != "" {
		for _, line := range strings.Split(text.Terminal(p.Details), "\n") {
			fmt.Fprintf(out, "%s  │ %s\n", indent, line)
		}
	}
	for _, c := range p.Checks {
		fmt.Fprintf(out, "%s  %s\n", indent, text.Terminal(c.Line()))
	}
	if p.Hash != "" {
		fmt.Fprintf(out, "%s  decide on exactly this with --hash %s\n", indent, p.Hash)
	}
}

// printChecks prints checks one a line, names aligned: ✓ passed, ✗ failed.
func printChecks(out io.Writer, checks []runs.Check) {
	width := 0
	for _, c := range checks {
		width = max(width, len([]rune(c.Name)))
	}
	for _, c := range checks {
		mark := "✓"
		if !c.Passed {
			mark = "✗"
		}
		fmt.Fprintf(out, "  %s %-*s  %s\n", mark, width, c.Name, oneLine(c.Detail, 100))
	}
}
