package workflows

import (
	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/runs"
)

// The run contract other programs share lives in package runs; the
// workflows use it under these names.
const (
	TicketRoutingName        = runs.TicketRoutingName
	InvoiceProcessingName    = runs.InvoiceProcessingName
	LeaveApprovalName        = runs.LeaveApprovalName
	ComplianceMonitoringName = runs.ComplianceMonitoringName
	AgentName                = runs.AgentName

	StatusQuery    = runs.StatusQuery
	DecisionUpdate = runs.DecisionUpdate
	MessageUpdate  = runs.MessageUpdate
	EventUpdate    = runs.EventUpdate
	AgentQuery     = runs.AgentQuery
)

// Search attributes, as package runs names them.
var (
	KindKey        = runs.KindKey
	StatusKey      = runs.StatusKey
	CustomerKey    = runs.CustomerKey
	CategoryKey    = runs.CategoryKey
	QueueKey       = runs.QueueKey
	EmployeeKey    = runs.EmployeeKey
	WaitingKey     = runs.WaitingKey
	SandboxKey     = runs.SandboxKey
	InputDigestKey = runs.InputDigestKey
	// SleepingUntilKey is set while an agent sleeps.
	SleepingUntilKey = runs.SleepingUntilKey
)

// Decisions, statuses and checks, as package runs defines them.
type (
	Decision        = runs.Decision
	DecisionPolicy  = runs.DecisionPolicy
	PendingDecision = runs.PendingDecision
	Status          = runs.Status
	Check           = runs.Check
	AgentMessage    = runs.AgentMessage
	AgentEvent      = runs.AgentEvent
)

// Campaign results, as the marketing agent's runs take them.
type (
	CampaignResults = activities.CampaignResults
	VariantResult   = activities.VariantResult
)

// CampaignResultsEvent names the event that delivers CampaignResults.
const CampaignResultsEvent = activities.CampaignResultsEvent

// ParseCampaignResults reads a campaign-results event's data.
var ParseCampaignResults = activities.ParseCampaignResults
