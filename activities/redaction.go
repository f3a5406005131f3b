package activities

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"

	"github.com/tandemhq/tandem/internal/redact"
	"github.com/tandemhq/tandem/internal/telemetry"
)

// Redaction replaces personal data with placeholders before text reaches
// the model, keeping the mapping in the business store, and puts the real
// values back into answers when the data policy allows.
type Redaction struct {
	Redactor *redact.Redactor
	Restore  bool // restore placeholders in the model's answers
	Store    *Store
	// Names redacts the names of the customers a run deals with (the data
	// policy's customer_name detector).
	Names bool
	// Metrics counts the values replaced, by detector; nothing when unset.
	Metrics *telemetry.Metrics

	withNames namesCache
	lines     lineCache
}

// namesCache keeps the redactor for each set of names the runs deal with,
// so that a model call does not compile its names' pattern again (about a
// millisecond of CPU a call). It starts over when it holds namesCacheSize.
type namesCache struct {
	mu        sync.Mutex
	redactors map[string]*redact.Redactor
}

const namesCacheSize = 1024

func (c *namesCache) redactor(base *redact.Redactor, names []string) *redact.Redactor {
	key := strings.Join(names, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.redactors[key]; ok {
		return r
	}
	if len(c.redactors) >= namesCacheSize || c.redactors == nil {
		c.redactors = map[string]*redact.Redactor{}
	}
	r := base.With(redact.Names(names))
	c.redactors[key] = r
	return r
}

// redaction is the placeholder mapping of one model call.
type redaction struct {
	r        *Redaction
	redactor *redact.Redactor // the policy's detectors, with the run's names
	ctx      context.Context
	scope    string
	run      string            // the calling run, which the line cache is kept by
	values   map[string]string // placeholder -> value, for restoring
	assigned map[placed]string // kind and value -> placeholder, this call's
	replaced int
}

// begin starts the redaction of one model call, scoped to the calling
// workflow run so that a value keeps its placeholder for the whole run.
func (r *Redaction) begin(ctx context.Context) *redaction {
	scope := runScope(ctx)
	x := &redaction{r: r, ctx: ctx, scope: scope, run: scope, values: map[string]string{}, assigned: map[placed]string{}}
	if activity.IsActivity(ctx) {
		x.run += "/" + activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	if r != nil {
		x.redactor = r.Redactor
		if r.Names {
			if names, err := r.Store.Records.RunNames(ctx, scope); err == nil && len(names) > 0 {
				x.redactor = r.withNames.redactor(r.Redactor, names)
			}
		}
	}
	return x
}

// runScope is the workflow id a store activity works for, or "direct".
func runScope(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).WorkflowExecution.ID
	}
	return "direct"
}

// text returns s with personal data replaced by placeholders, line by
// line: no piece of personal data spans a line (redact.Redactor.Find).
func (x *redaction) text(s string) (string, error) {
	if x.r == nil || x.redactor == nil {
		return s, nil
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		var err error
		if lines[i], err = x.line(line); err != nil {
			return "", err
		}
	}
	return strings.Join(lines, "\n"), nil
}

// line redacts one line, or takes how it was redacted earlier in the run.
func (x *redaction) line(line string) (string, error) {
	if line == "" {
		return "", nil
	}
	key := lineKey{redactor: x.redactor, run: x.run, line: line}
	done, ok := x.r.lines.get(key)
	if !ok {
		var err error
		done.text, _, err = x.redactor.Replace(line, func(kind, value string) (string, error) {
			ph, err := x.placeholder(kind, value)
			if err == nil {
				done.values = append(done.values, placed{kind: kind, placeholder: ph, value: value})
			}
			return ph, err
		})
		if err != nil {
			return "", err
		}
		x.r.lines.put(key, done)
	}
	for _, v := range done.values {
		x.values[v.placeholder] = v.value
		if x.r.Metrics != nil {
			x.r.Metrics.Redacted(x.ctx, strings.ToLower(v.kind), 1)
		}
	}
	x.replaced += len(done.values)
	return done.text, nil
}

// placeholder is the run's placeholder for a value, asking the store once
// a call.
func (x *redaction) placeholder(kind, value string) (string, error) {
	key := placed{kind: kind, value: value}
	if ph, ok := x.assigned[key]; ok {
		return ph, nil
	}
	ph, err := x.r.Store.Records.Placeholder(x.ctx, x.scope, kind, value)
	if err == nil {
		x.assigned[key] = ph
	}
	return ph, err
}

// lineCache remembers how each line a run sent the model was redacted. An
// agent's prompt repeats its last step's and adds a few lines, so a step
// searches only its new lines for personal data instead of the whole
// transcript again (the regular expressions took about a millisecond of CPU
// a step at 50 steps, and more as the transcript grew). A value keeps its
// placeholder for the whole run, so a line is redacted the same way each
// time. It is kept by run, not by workflow id: a later run under the same id
// asks the store again, which may have aged the mapping out. The cache
// starts over when it holds lineCacheBytes.
type lineCache struct {
	mu    sync.Mutex
	lines map[lineKey]redactedLine
	bytes int
}

const lineCacheBytes = 16 << 20

type lineKey struct {
	redactor  *redact.Redactor
	run, line string
}

type redactedLine struct {
	text   string
	values []placed
}

// placed is one value a line's redaction replaced.
type placed struct{ kind, placeholder, value string }

func (c *lineCache) get(k lineKey) (redactedLine, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.lines[k]
	return r, ok
}

func (c *lineCache) put(k lineKey, r redactedLine) {
	size := len(k.run) + len(k.line) + len(r.text)
	for _, v := range r.values {
		size += len(v.kind) + len(v.placeholder) + len(v.value)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lines == nil || c.bytes+size > lineCacheBytes {
		c.lines, c.bytes = map[lineKey]redactedLine{}, 0
	}
	c.lines[k] = r
	c.bytes += size
}

// messages redacts every message.
func (x *redaction) messages(in []Message) ([]Message, error) {
	out := make([]Message, len(in))
	for i, m := range in {
		content, err := x.text(m.Content)
		if err != nil {
			return nil, err
		}
		out[i] = Message{Role: m.Role, Content: content}
	}
	return out, nil
}

// restoreText puts the real values back into a free-text answer.
func (x *redaction) restoreText(s string) string {
	if x.r == nil || !x.r.Restore {
		return s
	}
	return redact.Restore(s, x.values)
}

// restoreJSON puts the real values back into the strings of a JSON answer.
func (x *redaction) restoreJSON(s string) string {
	if x.r == nil || !x.r.Restore || len(x.values) == 0 {
		return s
	}
	escaped := make(map[string]string, len(x.values))
	for ph, v := range x.values {
		b, _ := json.Marshal(v)
		escaped[ph] = strings.TrimSuffix(strings.TrimPrefix(string(b), `"`), `"`)
	}
	return redact.Restore(s, escaped)
}
