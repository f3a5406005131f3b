package runs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Decision is a person's answer to a pending decision.
type Decision struct {
	Approve bool   `json:"approve"`
	By      string `json:"by"`               // who decided
	Reason  string `json:"reason,omitempty"` // why; required to reject
	Edit    string `json:"edit,omitempty"`   // replacement text, where the decision takes edits
	// Hash binds the decision to what the person reviewed: the pending
	// decision's Hash. A decision with another hash is refused, so an
	// approval of something that has changed since is never taken.
	Hash string `json:"hash,omitempty"`
	// Always approves an agent's tool for the rest of the run: later calls
	// of it do not ask again.
	Always bool `json:"always,omitempty"`
}

// DecisionPolicy says who decides, how they are reminded, when the decision
// escalates and what happens when no one decides in time.
type DecisionPolicy struct {
	Approvers     []string      `json:"approvers"`
	EscalateTo    []string      `json:"escalateTo,omitempty"`
	RemindEvery   time.Duration `json:"remindEvery,omitempty"`   // 0: no reminders
	EscalateAfter time.Duration `json:"escalateAfter,omitempty"` // 0: never escalate
	Deadline      time.Duration `json:"deadline,omitempty"`      // 0: wait as long as it takes
	OnDeadline    string        `json:"onDeadline,omitempty"`    // "reject" (default) or "approve"
}

// PendingDecision is what a person is being asked.
type PendingDecision struct {
	Question  string    `json:"question"`
	Details   string    `json:"details,omitempty"`
	Checks    []Check   `json:"checks,omitempty"`
	Approvers []string  `json:"approvers"`
	Since     time.Time `json:"since"`
	Deadline  time.Time `json:"deadline,omitzero"`
	Escalated bool      `json:"escalated"`
	AllowEdit bool      `json:"allowEdit"`
	Reminders int       `json:"reminders"`
	// AllowAlways: the decision may approve for the rest of the run.
	AllowAlways bool `json:"allowAlways,omitempty"`
	// Hash identifies what is asked, question and details: the SHA-256 of
	// both, as DecisionHash makes it. A decision may carry it back.
	Hash string `json:"hash"`
}

// DecisionHash identifies a question and its details, for a decision to
// name what its person reviewed.
func DecisionHash(question, details string) string {
	sum := sha256.Sum256([]byte(question + "\x00" + details))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Status is a Tandem run's state, as the status Query returns it.
type Status struct {
	Kind     string           `json:"kind"`
	Step     string           `json:"step"`
	Pending  *PendingDecision `json:"pending,omitempty"`
	Decision *Decision        `json:"decision,omitempty"`
	Checks   []Check          `json:"checks,omitempty"` // every check so far, passed and failed
	// SleepingUntil is when a sleeping agent wakes at the latest.
	SleepingUntil *time.Time `json:"sleepingUntil,omitempty"`
}

// Check is one validation step and its outcome.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
	Hard   bool   `json:"hard,omitempty"` // a failure no person may override
}

// Line is a check in one line: passed or failed, its name and detail.
func (c Check) Line() string {
	mark := "✔"
	switch {
	case !c.Passed && c.Hard:
		mark = "✘ (no approval overrides this)"
	case !c.Passed:
		mark = "✘"
	}
	return fmt.Sprintf("%s %s: %s", mark, c.Name, c.Detail)
}

// AgentEvent is something that happened elsewhere, delivered to a running
// agent by another system: results that arrived, a payment, a reply.
type AgentEvent struct {
	Name string `json:"name"`           // what happened, such as campaign-results
	From string `json:"from"`           // who delivers it
	Data string `json:"data,omitempty"` // what it says, as text or JSON
}

// AgentMessage is a person's message to a running agent.
type AgentMessage struct {
	From string `json:"from"`
	Text string `json:"text"`
}
