package workflows

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/text"
)

// A run's input may carry business settings (thresholds, timings), and a
// caller may use them to be stricter than the business's defaults, never
// looser: who decides comes from the defaults alone, thresholds may only
// go down, and no decision approves itself when a deadline passes.

// checkNarrows refuses a decision policy from a run's input that names its
// own deciders or approves on its deadline.
func checkNarrows(p DecisionPolicy) error {
	switch {
	case len(p.Approvers) > 0 || len(p.EscalateTo) > 0:
		return errors.New("a run cannot name who decides it; approvers and escalation come from the business policy on the worker")
	case p.OnDeadline == "approve":
		return errors.New("a run cannot approve itself when its deadline passes; leave onDeadline out, or set it to reject")
	case p.RemindEvery < 0 || p.EscalateAfter < 0 || p.Deadline < 0:
		return errors.New("decision timings must be positive durations, or left out for the defaults")
	}
	return nil
}

// Check refuses, with a sentence, an invoice input that no run can take:
// no document, a document too long for the model, or a looser policy.
func (in InvoiceInput) Check() error {
	if strings.TrimSpace(in.Document) == "" && in.DocumentID == "" {
		return errEmptyInvoice
	}
	if err := fitsModel("the invoice", in.Document, extractAnswerTokens, 0); err != nil {
		return err
	}
	return in.Policy.Check()
}

// Check refuses, with a sentence, an invoice policy looser than the
// default: a higher auto-approval threshold or PO tolerance, its own
// approvers, or approval on deadline.
func (p InvoicePolicy) Check() error {
	def := DefaultInvoicePolicy
	switch {
	case p.AutoApproveBelow.IsNegative() || p.POTolerance.IsNegative():
		return errors.New("autoApproveBelow and poTolerance cannot be negative")
	case p.AutoApproveBelow.GreaterThan(def.AutoApproveBelow):
		return fmt.Errorf("autoApproveBelow %s is over the business's %s; a run may lower it, never raise it", p.AutoApproveBelow, def.AutoApproveBelow)
	case p.POTolerance.GreaterThan(def.POTolerance):
		return fmt.Errorf("poTolerance %s is over the business's %s; a run may lower it, never raise it", p.POTolerance, def.POTolerance)
	}
	return checkNarrows(p.Decision)
}

// Check refuses, with a sentence, a leave policy looser than HR's: less
// notice, or approval on deadline.
func (p LeavePolicy) Check() error {
	switch {
	case p.NoticeDays < 0 || p.RemindEvery < 0 || p.EscalateAfter < 0 || p.Deadline < 0:
		return errors.New("leave policy numbers and durations cannot be negative")
	case p.NoticeDays > 0 && p.NoticeDays < defaultNoticeDays:
		return fmt.Errorf("noticeDays %d is under HR's %d; a run may ask for more notice, never less", p.NoticeDays, defaultNoticeDays)
	case p.OnDeadline == "approve":
		return errors.New("a run cannot approve itself when its deadline passes; leave onDeadline out, or set it to reject")
	}
	return nil
}

// PlainText refuses, with a sentence naming the field, text with control
// characters (other than tab and line breaks) or text-direction overrides,
// which can make what a person approves read differently from what runs.
func PlainText(field, s string) error {
	for _, r := range s {
		if r != '\r' && text.Steers(r) {
			return fmt.Errorf("%s has a control or text-direction character (U+%04X); send plain text", field, r)
		}
	}
	return nil
}

// maxLength refuses text over n characters, naming the field.
func maxLength(what, s string, n int) error {
	if c := utf8.RuneCountInString(s); c > n {
		return fmt.Errorf("%s is %d characters; keep it to %d", what, c, n)
	}
	return nil
}

// promptOverhead is the tokens a step's instructions and chat template
// take besides the text it is given.
const promptOverhead = 200

// fitsModel refuses, before a run starts, text that cannot fit the model's
// context window with the instructions and room for the answer.
func fitsModel(what, text string, answerTokens, contextSize int) error {
	if contextSize <= 0 {
		contextSize = activities.DefaultContextSize
	}
	need := activities.EstimateTokens(text) + promptOverhead + answerTokens
	if need > contextSize {
		return fmt.Errorf("%s is about %d tokens; with the instructions and room for the answer it needs %d of the model's %d-token context; "+
			"shorten it or split it into parts", what, activities.EstimateTokens(text), need, contextSize)
	}
	return nil
}
