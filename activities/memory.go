package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/store"
)

// Arguments of the memory tools.
type (
	// RememberArgs keeps a fact about a subject for later runs.
	RememberArgs struct {
		Subject string `json:"subject"`
		Fact    string `json:"fact"`
	}
	// RecallArgs reads what earlier runs remembered about a subject.
	RecallArgs struct {
		Subject string `json:"subject"`
	}
)

// Argument schemas of the memory tools.
var (
	RememberSchema = schema.Object(
		schema.Prop("subject", schema.String("who or what it is about: a customer id, a campaign id", 80)),
		schema.Prop("fact", schema.String("the fact, in one or two sentences", 500)))
	RecallSchema = schema.Object(schema.Prop("subject", schema.String("a customer id, a campaign id", 80)))
)

// recalled is how many facts recall returns at most.
const recalled = 10

// remember keeps a fact about a subject, with personal data replaced by
// its kind, such as [EMAIL], before it is stored: it outlives the run and
// its placeholders.
func (t *Tools) remember(ctx context.Context, call ToolCall, a RememberArgs) (ToolResult, error) {
	subject := strings.TrimSpace(a.Subject)
	fact, err := t.redactForMemory(strings.TrimSpace(a.Fact))
	if err != nil {
		return ToolResult{}, err
	}
	if err := t.Store.Records.Remember(ctx, store.Memory{Key: call.key(), Subject: subject, Fact: fact, RunKey: call.RunKey, Step: call.Step}); err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: fmt.Sprintf("remembered about %s: %s", subject, fact)}, nil
}

// recall returns the latest facts about a subject, newest first.
func (t *Tools) recall(ctx context.Context, _ ToolCall, a RecallArgs) (ToolResult, error) {
	subject := strings.TrimSpace(a.Subject)
	facts, err := t.Store.Records.Recall(ctx, subject, recalled)
	if err != nil {
		return ToolResult{}, err
	}
	if len(facts) == 0 {
		return ToolResult{Observation: fmt.Sprintf("nothing is remembered about %s", subject)}, nil
	}
	lines := make([]string, len(facts))
	for i, f := range facts {
		lines[i] = fmt.Sprintf("%s (run %s): %s", f.At, f.RunKey, f.Fact)
	}
	return ToolResult{Observation: fmt.Sprintf("remembered about %s, newest first:\n%s", subject, strings.Join(lines, "\n")),
		Read: []string{"memory:" + strings.ToLower(subject)}}, nil
}

func (t *Tools) redactForMemory(text string) (string, error) {
	if t.Redactor == nil {
		return text, nil
	}
	out, _, err := t.Redactor.Replace(text, func(kind, _ string) (string, error) { return "[" + kind + "]", nil })
	return out, err
}
