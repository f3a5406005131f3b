package workflows

import (
	"encoding/json"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/schema"
)

// ToolRisk says what a tool can do to the world.
type ToolRisk string

// Tool risks.
const (
	RiskRead     ToolRisk = "read"     // looks things up
	RiskWrite    ToolRisk = "write"    // changes business records
	RiskExternal ToolRisk = "external" // reaches people outside
)

// ToolRun says how a tool runs.
type ToolRun string

// How tools run.
const (
	RunInline   ToolRun = "inline"   // workflow code (today)
	RunLocal    ToolRun = "local"    // a local activity: short, read-only
	RunActivity ToolRun = "activity" // an activity with side effects, once per step
	RunModel    ToolRun = "model"    // a model call
	RunChild    ToolRun = "child"    // a child workflow: the fixed business path
)

// Tool is one entry of the agent's typed catalogue.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Args        json.RawMessage `json:"args"` // JSON schema of the arguments
	Risk        ToolRisk        `json:"risk"`
	Run         ToolRun         `json:"run"`
	Workflow    string          `json:"workflow,omitempty"` // for child tools
}

// Argument types of the tools that run in workflow code or as child
// workflows, beside their schemas.
type (
	// DraftMessageArgs asks the model to draft a message to a customer.
	DraftMessageArgs struct {
		CustomerID string `json:"customerId"`
		About      string `json:"about"`
	}
	// ProcessInvoiceArgs hands an invoice to invoice processing.
	ProcessInvoiceArgs struct {
		Document string `json:"document"`
	}
	// RunComplianceArgs runs compliance monitoring over the last days.
	RunComplianceArgs struct {
		Days int `json:"days"`
	}
)

var (
	noArgsSchema       = schema.Object()
	draftMessageSchema = schema.Object(
		schema.Prop("customerId", schema.String("customer id", 20)),
		schema.Prop("about", schema.String("what the message must say", 400)))
	routeTicketSchema = schema.Object(
		schema.Prop("subject", schema.String("ticket subject", 160)),
		schema.Prop("body", schema.String("ticket text", 2000)),
		schema.Prop("customer", schema.String("customer name", 80)),
		schema.Prop("channel", schema.Enum("where it came from", TicketChannels...)))
	processInvoiceSchema = schema.Object(schema.Prop("document", schema.String("the invoice's full text", 8000)))
	requestLeaveSchema   = schema.Object(
		schema.Prop("employeeId", schema.String("employee id, like E-101", 20)),
		schema.Prop("type", schema.Enum("kind of leave", LeaveTypes...)),
		schema.Prop("start", schema.String("first day, YYYY-MM-DD", 10)),
		schema.Prop("end", schema.String("last day, YYYY-MM-DD", 10)),
		schema.Prop("reason", schema.String("why", 200)))
	runComplianceSchema = schema.Object(schema.Prop("days", schema.Integer("how many days back", 1, 31)))
)

// Catalogue is every tool an agent profile can allow.
var Catalogue = []Tool{
	{Name: "search_docs", Description: "Search the company's policy documents; returns document names and titles.",
		Args: activities.SearchDocsSchema, Risk: RiskRead, Run: RunLocal},
	{Name: "read_doc", Description: "Read one document found by search_docs.",
		Args: activities.ReadDocSchema, Risk: RiskRead, Run: RunLocal},
	{Name: "lookup_customer", Description: "Find a customer by id, name or email.",
		Args: activities.LookupCustomerSchema, Risk: RiskRead, Run: RunLocal},
	{Name: "lookup_order", Description: "Read an order: item, amount, status, refunds.",
		Args: activities.LookupOrderSchema, Risk: RiskRead, Run: RunLocal},
	{Name: "order_history", Description: "List a customer's recent orders.",
		Args: activities.OrderHistorySchema, Risk: RiskRead, Run: RunLocal},
	{Name: "calculate", Description: "Evaluate arithmetic exactly.",
		Args: activities.CalculateSchema, Risk: RiskRead, Run: RunLocal},
	{Name: "today", Description: "Today's date.", Args: noArgsSchema, Risk: RiskRead, Run: RunInline},
	{Name: "draft_message", Description: "Draft a personal message to a customer; it is not sent.",
		Args: draftMessageSchema, Risk: RiskRead, Run: RunModel},
	{Name: "send_message", Description: "Send a message to a customer's email on file.",
		Args: activities.SendMessageSchema, Risk: RiskExternal, Run: RunActivity},
	{Name: "issue_refund", Description: "Refund all or part of an order.",
		Args: activities.IssueRefundSchema, Risk: RiskWrite, Run: RunActivity},
	{Name: "route_ticket", Description: "Hand a support ticket to the ticket routing workflow (classify, route, reviewed reply).",
		Args: routeTicketSchema, Risk: RiskWrite, Run: RunChild, Workflow: TicketRoutingName},
	{Name: "process_invoice", Description: "Hand an invoice to invoice processing (extract, validate, approve, post).",
		Args: processInvoiceSchema, Risk: RiskWrite, Run: RunChild, Workflow: InvoiceProcessingName},
	{Name: "request_leave", Description: "Hand a leave request to leave approval (policy checks, manager decision).",
		Args: requestLeaveSchema, Risk: RiskWrite, Run: RunChild, Workflow: LeaveApprovalName},
	{Name: "run_compliance", Description: "Run compliance monitoring over the last days and get its report.",
		Args: runComplianceSchema, Risk: RiskRead, Run: RunChild, Workflow: ComplianceMonitoringName},
}

// FinishTool is the name of the tool that ends a run with an answer.
const FinishTool = "finish"

// toolNamed finds a catalogue tool.
// ToolNames lists the catalogue's tools, for data-policy rules to name.
func ToolNames() []string {
	names := make([]string, len(Catalogue))
	for i, t := range Catalogue {
		names[i] = t.Name
	}
	return names
}

func toolNamed(name string) (Tool, bool) {
	for _, t := range Catalogue {
		if t.Name == name {
			return t, true
		}
	}
	return Tool{}, false
}
