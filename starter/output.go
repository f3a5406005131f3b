package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/config"
)

func writeJSON(out io.Writer, v any) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func printStarted(out io.Writer, asJSON bool, source string, run client.WorkflowRun, cfg config.Config) {
	link := cfg.WorkflowURL(run.GetID(), run.GetRunID())
	if asJSON {
		writeJSON(out, map[string]string{"source": source, "workflowId": run.GetID(), "runId": run.GetRunID(), "url": link})
		return
	}
	fmt.Fprintf(out, "▶ %s  started %s\n  %s\n", source, run.GetID(), link)
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

func modelCallsLine(calls []activities.ModelCall) string {
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
	digest := strings.TrimPrefix(calls[0].Digest, "sha256:")
	if len(digest) > 12 {
		digest = digest[:12]
	}
	return fmt.Sprintf("%s (%s) · %d calls · %d prompt + %d output tokens · %s",
		calls[0].Model, digest, len(calls), prompt, output, total.Round(time.Millisecond))
}

// oneLine flattens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

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
