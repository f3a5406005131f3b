package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/runs"
)

// Question is what a run asks a person: one line, the full text of what
// would happen (a message body, a recipient, an amount and order), and the
// checks behind it, passed and failed.
type Question struct {
	Text        string  `json:"question"`
	Details     string  `json:"details,omitempty"`
	Checks      []Check `json:"checks,omitempty"`
	AllowEdit   bool    `json:"allowEdit"`
	AllowAlways bool    `json:"allowAlways,omitempty"` // an approval may hold for the rest of the run
}

// decisions holds a run's status and its pending decision, and serves the
// status Query and the decide Update.
type decisions struct {
	status Status
	answer *Decision
	notify func(ctx workflow.Context, kind string, to []string, text string)
	// editCheck, when set, validates an edit before it is accepted.
	editCheck func(edit string) error
}

// newDecisions registers the status Query and the decide Update for a run of
// the given kind, and marks the run with its kind, not waiting.
func newDecisions(ctx workflow.Context, kind string) (*decisions, error) {
	d, err := registerDecisions(ctx, kind)
	if err != nil {
		return nil, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, KindKey.ValueSet(kind), WaitingKey.ValueSet(false))
	return d, nil
}

// registerDecisions registers the status Query and the decide Update, and
// issues no command.
func registerDecisions(ctx workflow.Context, kind string) (*decisions, error) {
	d := &decisions{status: Status{Kind: kind, Step: "starting"}}
	d.notify = d.sendNotification
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (Status, error) { return d.status, nil }); err != nil {
		return nil, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, DecisionUpdate,
		func(ctx workflow.Context, dec Decision) (Status, error) {
			dec.By = strings.TrimSpace(dec.By)
			d.answer = &dec
			return d.status, nil
		},
		workflow.UpdateHandlerOptions{Validator: d.validate})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// step records the run's current step in the status and the Web UI's
// current details, and in the search attributes when it changed: an upsert
// is a command and a visibility write, so repeating one costs every step.
func (d *decisions) step(ctx workflow.Context, status, details string) {
	d.stepWith(ctx, status, details)
}

// stepWith is step, with more search attributes set in the same upsert
// (each upsert is one history event and one visibility write).
func (d *decisions) stepWith(ctx workflow.Context, status, details string, also ...temporal.SearchAttributeUpdate) {
	workflow.SetCurrentDetails(ctx, details)
	if d.status.Step == status && len(also) == 0 {
		return
	}
	d.status.Step = status
	setStep(ctx, status, details, also...)
}

// pass moves the status Query and the run's current details to a step
// that passes too quickly to be worth a search-attribute write.
func (d *decisions) pass(ctx workflow.Context, status, details string) {
	workflow.SetCurrentDetails(ctx, details)
	d.status.Step = status
}

// validate refuses a decision that cannot be taken, before it enters history.
func (d *decisions) validate(ctx workflow.Context, dec Decision) error {
	p := d.status.Pending
	by := strings.TrimSpace(dec.By)
	switch {
	case d.answer != nil:
		return fmt.Errorf("this decision was already taken by %s", d.answer.By)
	case p == nil:
		return fmt.Errorf("this run has no decision pending; it is at step %q", d.status.Step)
	case by == "":
		return fmt.Errorf("say who decides (by); one of %s may decide", strings.Join(p.Approvers, ", "))
	case !slices.Contains(p.Approvers, by):
		return fmt.Errorf("%s may not decide this; one of %s may", by, strings.Join(p.Approvers, ", "))
	case !dec.Approve && strings.TrimSpace(dec.Reason) == "":
		return fmt.Errorf("a rejection needs a reason")
	case dec.Edit != "" && !p.AllowEdit:
		return fmt.Errorf("this decision does not take edits; approve or reject it")
	case dec.Edit != "" && !dec.Approve:
		return fmt.Errorf("an edit approves the edited text; do not reject and edit at once")
	case dec.Hash != "" && dec.Hash != p.Hash:
		return fmt.Errorf("this decision is about %s, which no longer waits: the run now asks %q (%s); look at it again and decide on that",
			shortHash(dec.Hash), p.Question, shortHash(p.Hash))
	case dec.Always && !p.AllowAlways:
		return fmt.Errorf("this decision cannot hold for the rest of the run; approve it alone")
	case dec.Always && !dec.Approve:
		return fmt.Errorf("always goes with an approval, not a rejection")
	}
	if dec.Edit != "" && d.editCheck != nil {
		if err := d.editCheck(dec.Edit); err != nil {
			return fmt.Errorf("the edit is not valid: %v", err)
		}
	}
	return nil
}

// shortHash is a hash's first 12 hex digits, for sentences.
func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return "sha256:" + h
}

// ask puts a question to the policy's approvers and waits for their
// decision, sending reminders and escalating as the policy says. When the
// deadline passes first, the policy's OnDeadline decides, by "deadline".
func (d *decisions) ask(ctx workflow.Context, q Question, p DecisionPolicy) Decision {
	start := workflow.Now(ctx)
	d.answer = nil // a new question
	question := q.Text
	pending := &PendingDecision{Question: q.Text, Details: q.Details, Checks: q.Checks, Approvers: p.Approvers, Since: start, AllowEdit: q.AllowEdit,
		AllowAlways: q.AllowAlways, Hash: runs.DecisionHash(q.Text, q.Details)}
	if p.Deadline > 0 {
		pending.Deadline = start.Add(p.Deadline)
	}
	d.status.Pending = pending
	d.step(ctx, "waiting-for-decision", "Waiting for "+strings.Join(p.Approvers, " or ")+": "+question+describe(pending))
	_ = workflow.UpsertTypedSearchAttributes(ctx, WaitingKey.ValueSet(true))
	defer func() {
		d.status.Pending = nil
		_ = workflow.UpsertTypedSearchAttributes(ctx, WaitingKey.ValueSet(false))
	}()
	d.notify(ctx, "decision", p.Approvers, question+describe(pending))

	nextReminder := time.Time{}
	if p.RemindEvery > 0 {
		nextReminder = start.Add(p.RemindEvery)
	}
	for {
		wake := earliest(nextReminder, pending.Deadline)
		if p.EscalateAfter > 0 && !pending.Escalated && len(p.EscalateTo) > 0 {
			wake = earliest(wake, start.Add(p.EscalateAfter))
		}
		decided := func() bool { return d.answer != nil }
		if wake.IsZero() {
			_ = workflow.Await(ctx, decided)
		} else {
			_, _ = workflow.AwaitWithTimeout(ctx, wake.Sub(workflow.Now(ctx)), decided)
		}
		if d.answer != nil {
			d.status.Decision = d.answer
			d.measure(ctx, *d.answer, start)
			return *d.answer
		}
		now := workflow.Now(ctx)
		if !pending.Deadline.IsZero() && !now.Before(pending.Deadline) {
			dec := Decision{Approve: p.OnDeadline == "approve", By: "deadline",
				Reason: fmt.Sprintf("no decision within %s", p.Deadline)}
			d.status.Decision = &dec
			d.measure(ctx, dec, start)
			return dec
		}
		if p.EscalateAfter > 0 && !pending.Escalated && len(p.EscalateTo) > 0 && !now.Before(start.Add(p.EscalateAfter)) {
			pending.Escalated = true
			pending.Approvers = p.EscalateTo
			d.step(ctx, "waiting-for-decision", "Escalated to "+strings.Join(p.EscalateTo, " or ")+": "+question)
			d.notify(ctx, "escalation", p.EscalateTo, question)
		}
		if !nextReminder.IsZero() && !now.Before(nextReminder) {
			pending.Reminders++
			nextReminder = nextReminder.Add(p.RemindEvery)
			d.notify(ctx, "reminder", pending.Approvers, question)
		}
	}
}

// measure records how long a decision took, by the run's kind and the
// outcome, through the SDK's metrics handler, which records nothing on
// replay.
func (d *decisions) measure(ctx workflow.Context, dec Decision, asked time.Time) {
	usedPeople(ctx, workflow.Now(ctx).Sub(asked), dec.By != "deadline")
	outcome := "rejected"
	switch {
	case dec.By == "deadline":
		outcome = "deadline"
	case dec.Approve:
		outcome = "approved"
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"kind": d.status.Kind, "outcome": outcome}).
		Timer(metricDecisionWait).Record(workflow.Now(ctx).Sub(asked))
}

// describe is the pending decision's details and checks as Markdown, for
// the Web UI's current details and the approvers' notification.
func describe(p *PendingDecision) string {
	var b strings.Builder
	if p.Details != "" {
		b.WriteString("\n\n" + p.Details)
	}
	if len(p.Checks) > 0 {
		b.WriteString("\n\nChecks:")
		for _, c := range p.Checks {
			b.WriteString("\n- " + c.Line())
		}
	}
	return b.String()
}

// sendNotification writes a notification to the outbox, once per run,
// kind and sequence.
func (d *decisions) sendNotification(ctx workflow.Context, kind string, to []string, text string) {
	info := workflow.GetInfo(ctx)
	n := activities.Notification{
		IdempotencyKey: fmt.Sprintf("%s/%s/%s/%d", info.WorkflowExecution.ID, info.WorkflowExecution.RunID, kind, d.sequence(kind)),
		Recipients:     to,
		Subject:        fmt.Sprintf("[%s] %s", d.status.Kind, kind),
		Body:           text,
		WorkflowID:     info.WorkflowExecution.ID,
	}
	var store *activities.Store
	err := workflow.ExecuteActivity(withStore(ctx, kind+" to "+strings.Join(to, ", ")), store.Notify, n).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("Could not write the notification", "kind", kind, "error", err)
	}
}

func (d *decisions) sequence(kind string) int {
	if kind == "reminder" && d.status.Pending != nil {
		return d.status.Pending.Reminders
	}
	return 0
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case a.Before(b):
		return a
	}
	return b
}
