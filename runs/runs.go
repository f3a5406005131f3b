// Package runs is the contract of Tandem's runs that other programs share:
// the names of the workflows, their Query and Updates and search
// attributes; the decision a run asks of a person and the status it
// reports; and what runs record of their work — model calls, agent turns,
// checks. It imports only the Temporal SDK, so a Go service that follows or
// decides runs links neither the Ollama client nor the JSON-schema
// validator.
package runs

import "go.temporal.io/sdk/temporal"

// The workflow types Tandem registers.
const (
	TicketRoutingName        = "TicketRouting"
	InvoiceProcessingName    = "InvoiceProcessing"
	LeaveApprovalName        = "LeaveApproval"
	ComplianceMonitoringName = "ComplianceMonitoring"
	AgentName                = "Agent"
)

// The Queries and Updates every Tandem run, or every agent run, answers.
const (
	// StatusQuery returns a run's Status.
	StatusQuery = "status"
	// DecisionUpdate takes a person's Decision on the pending decision.
	DecisionUpdate = "decide"
	// MessageUpdate adds a person's AgentMessage to a running agent.
	MessageUpdate = "message"
	// EventUpdate delivers another system's AgentEvent to a running agent;
	// it wakes an agent that sleeps.
	EventUpdate = "event"
	// AgentQuery returns an agent run's transcript, pending approval and
	// budget.
	AgentQuery = "agent"
)

// Search attributes Tandem sets on its runs, so the Web UI and `starter list`
// can find them by kind, step and business key.
var (
	KindKey     = temporal.NewSearchAttributeKeyKeyword("TandemKind")
	StatusKey   = temporal.NewSearchAttributeKeyKeyword("TandemStatus")
	CustomerKey = temporal.NewSearchAttributeKeyKeyword("TandemCustomer")
	CategoryKey = temporal.NewSearchAttributeKeyKeyword("TandemCategory")
	QueueKey    = temporal.NewSearchAttributeKeyKeyword("TandemQueue")
	EmployeeKey = temporal.NewSearchAttributeKeyKeyword("TandemEmployee")
	WaitingKey  = temporal.NewSearchAttributeKeyBool("TandemWaiting")
	SandboxKey  = temporal.NewSearchAttributeKeyBool("TandemSandbox")
	// SleepingUntilKey is set while an agent sleeps (wait, wait_for_event):
	// when it wakes at the latest.
	SleepingUntilKey = temporal.NewSearchAttributeKeyTime("TandemSleepingUntil")
	// InputDigestKey identifies a run's input (a hash), so that a start
	// under a taken idempotency key with another input is refused.
	InputDigestKey = temporal.NewSearchAttributeKeyKeyword("TandemInputDigest")
)

// Kinds are the kinds of run, as search attributes, metrics and `starter`
// name them, in the order of the workflow types they stand for.
var Kinds = []string{"ticket-routing", "invoice", "leave", "compliance", "agent"}

var workflowTypes = []string{TicketRoutingName, InvoiceProcessingName, LeaveApprovalName, ComplianceMonitoringName, AgentName}

// KindOf is the kind of run a workflow type is; the workflow type itself
// when it is none of Tandem's.
func KindOf(workflowType string) string {
	for i, t := range workflowTypes {
		if t == workflowType {
			return Kinds[i]
		}
	}
	return workflowType
}
