package workflows

import (
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/text"
)

// ToolRisk says what a tool can do to the world.
type ToolRisk = activities.ToolRisk

// Tool risks.
const (
	RiskRead     = activities.RiskRead
	RiskWrite    = activities.RiskWrite
	RiskExternal = activities.RiskExternal
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

// Tool is one entry of the agent's typed catalogue: the activity tools of
// activities.ActivityTools, and the tools below that run in workflow code,
// as a model call or as a child workflow, each one value.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Args        json.RawMessage `json:"args"` // JSON schema of the arguments
	Risk        ToolRisk        `json:"risk"`
	Run         ToolRun         `json:"run"`
	Workflow    string          `json:"workflow,omitempty"` // for child tools
	// input builds a child tool's workflow input from its arguments.
	input func(ctx workflow.Context, st *AgentState, args json.RawMessage) (any, error)
	// summarise is a child workflow's result as the agent's observation.
	summarise func(raw json.RawMessage) string
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

// workflowTools are the tools that run in workflow code, as a model call,
// or as a child workflow.
var workflowTools = []Tool{
	{Name: "today", Description: "Today's date.", Args: noArgsSchema, Risk: RiskRead, Run: RunInline},
	{Name: "draft_message", Description: "Draft a personal message to a customer; it is not sent.",
		Args: draftMessageSchema, Risk: RiskRead, Run: RunModel},
	childTool("route_ticket", "Hand a support ticket to the ticket routing workflow (classify, route, reviewed reply).",
		routeTicketSchema, RiskWrite, TicketRoutingName,
		func(_ workflow.Context, st *AgentState, t Ticket) any {
			return TicketRoutingInput{Ticket: t, Model: st.Model}
		},
		func(r TicketRoutingResult) string {
			sent := "reply not sent"
			if r.Review != nil && r.Review.Sent {
				sent = "reply sent"
			}
			return fmt.Sprintf("ticket classified %s/%s, routed to %s (SLA %d min), %s", r.Classification.Category,
				r.Classification.Priority, r.Route.Queue, r.Route.SLAMinutes, sent)
		}),
	childTool("process_invoice", "Hand an invoice to invoice processing (extract, validate, approve, post).",
		processInvoiceSchema, RiskWrite, InvoiceProcessingName,
		func(_ workflow.Context, st *AgentState, a ProcessInvoiceArgs) any {
			return InvoiceInput{Document: a.Document, Model: st.Model}
		},
		func(r InvoiceResult) string {
			text := fmt.Sprintf("invoice approved=%t by %s (%s)", r.Approved, r.Decision.By, r.Decision.Reason)
			if r.Ledger != nil {
				text += "; posted " + money.Format(r.Ledger.Amount, r.Ledger.Currency)
			}
			return text
		}),
	childTool("request_leave", "Hand a leave request to leave approval (policy checks, manager decision).",
		requestLeaveSchema, RiskWrite, LeaveApprovalName,
		func(_ workflow.Context, st *AgentState, r LeaveRequest) any {
			return LeaveInput{Request: r, Model: st.Model}
		},
		func(r LeaveResult) string {
			return fmt.Sprintf("leave of %d days approved=%t by %s (%s)", r.Days, r.Approved, r.Decision.By, r.Decision.Reason)
		}),
	childTool("run_compliance", "Run compliance monitoring over the last days and get its report.",
		runComplianceSchema, RiskRead, ComplianceMonitoringName,
		func(ctx workflow.Context, st *AgentState, a RunComplianceArgs) any {
			now := workflow.Now(ctx).UTC()
			return ComplianceInput{From: now.AddDate(0, 0, -a.Days), To: now, Model: st.Model}
		},
		func(r ComplianceResult) string {
			return fmt.Sprintf("compliance report %s: %d records, %d rule hits, %d model findings; written to %s",
				r.Report.ID, r.Report.RecordsChecked, len(r.Report.Hits), len(r.Report.Findings), r.Location.Markdown)
		}),
}

// childTool is a tool that hands its arguments, as A, to a fixed workflow
// whose result, an R, becomes the agent's observation.
func childTool[A, R any](name, description string, args json.RawMessage, risk ToolRisk, workflowName string,
	input func(ctx workflow.Context, st *AgentState, a A) any, summarise func(r R) string) Tool {
	return Tool{Name: name, Description: description, Args: args, Risk: risk, Run: RunChild, Workflow: workflowName,
		input: func(ctx workflow.Context, st *AgentState, raw json.RawMessage) (any, error) {
			var a A
			if err := decodeArgs(raw, &a); err != nil {
				return nil, err
			}
			return input(ctx, st, a), nil
		},
		summarise: func(raw json.RawMessage) string {
			var r R
			_ = decodeArgs(raw, &r)
			return text.Shorten(summarise(r), activities.MaxObservation)
		}}
}

// Catalogue is every tool an agent profile can allow: the activity tools
// of the registry, then the workflow's own.
var Catalogue = func() []Tool {
	var out []Tool
	for _, t := range activities.ActivityTools {
		run := RunLocal
		if t.Writes {
			run = RunActivity
		}
		out = append(out, Tool{Name: t.Name, Description: t.Description, Args: t.Args, Risk: t.Risk, Run: run})
	}
	return append(append(append(out, workflowTools...), waitTools...), delegateTool)
}()

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
