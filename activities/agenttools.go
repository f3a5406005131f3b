package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tandemhq/tandem/internal/mcptools"
	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/redact"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/telemetry"
)

// ToolCall is one call of an agent tool, keyed by the run and step so that
// a retried side effect happens once.
type ToolCall struct {
	RunKey string          `json:"runKey"`
	Step   int             `json:"step"`
	Name   string          `json:"name"`
	Args   json.RawMessage `json:"args"`
	// ApprovedBy names who approved the call, for tools that need approval.
	ApprovedBy string `json:"approvedBy,omitempty"`
	// RequestedBy is who the run is for (a customer id or an email
	// address), when its starter said.
	RequestedBy string `json:"requestedBy,omitempty"`
}

// ToolResult is what a tool observed, kept small: long outputs go to the
// store and travel by reference.
type ToolResult struct {
	Observation string   `json:"observation"`
	Read        []string `json:"read,omitempty"` // what the call read: a document, a workflow's outcome

	Ref string `json:"ref,omitempty"` // artifact holding the full output
}

// MaxObservation is the longest observation a tool returns inline.
const MaxObservation = 1200

// The argument types of the tools that run as activities, each with its
// JSON schema beside it.
type (
	// SearchDocsArgs searches the document corpus.
	SearchDocsArgs struct {
		Query string `json:"query"`
		Limit int    `json:"limit"`
	}
	// ReadDocArgs reads one document.
	ReadDocArgs struct {
		Name string `json:"name"`
	}
	// LookupCustomerArgs finds a customer by id, name or email.
	LookupCustomerArgs struct {
		Query string `json:"query"`
	}
	// LookupOrderArgs reads one order.
	LookupOrderArgs struct {
		OrderID string `json:"orderId"`
	}
	// OrderHistoryArgs lists a customer's orders.
	OrderHistoryArgs struct {
		CustomerID string `json:"customerId"`
	}
	// CalculateArgs evaluates arithmetic.
	CalculateArgs struct {
		Expression string `json:"expression"`
	}
	// SendMessageArgs sends a message to a customer, through the outbox.
	SendMessageArgs struct {
		CustomerID string `json:"customerId"`
		Subject    string `json:"subject"`
		Body       string `json:"body"`
	}
	// IssueRefundArgs refunds (part of) an order.
	IssueRefundArgs struct {
		OrderID string          `json:"orderId"`
		Amount  decimal.Decimal `json:"amount"` // in the order's currency
		Reason  string          `json:"reason"`
	}
)

// Argument schemas of the activity tools.
var (
	SearchDocsSchema = schema.Object(
		schema.Prop("query", schema.String("words to search for", 120)),
		schema.Prop("limit", schema.Integer("how many documents, 1 to 5", 1, 5)))
	ReadDocSchema        = schema.Object(schema.Prop("name", schema.String("document name from search_docs", 80)))
	LookupCustomerSchema = schema.Object(schema.Prop("query", schema.String("customer id, name or email", 80)))
	LookupOrderSchema    = schema.Object(schema.Prop("orderId", schema.String("order id, like O-20931", 20)))
	OrderHistorySchema   = schema.Object(schema.Prop("customerId", schema.String("customer id, like C-100", 20)))
	CalculateSchema      = schema.Object(schema.Prop("expression", schema.String("arithmetic with + - * / and parentheses", 120)))
	SendMessageSchema    = schema.Object(
		schema.Prop("customerId", schema.String("customer id; the message goes to the email on file", 20)),
		schema.Prop("subject", schema.String("subject line", 120)),
		schema.Prop("body", schema.String("the message", 1200)))
	IssueRefundSchema = schema.Object(
		schema.Prop("orderId", schema.String("order id", 20)),
		schema.Prop("amount", schema.Number("amount to refund, at most the order amount")),
		schema.Prop("reason", schema.String("why", 200)))
)

// ActivityTools are the agent tools that run as activities (see
// ActivityTool). A new one is its arguments, their schema, its behaviour
// and an entry here, all in this file.
var ActivityTools = append([]ActivityTool{
	newTool("search_docs", "Search the company's policy documents; returns document names and titles.", SearchDocsSchema, RiskRead, (*Tools).searchDocs),
	newTool("read_doc", "Read one document found by search_docs.", ReadDocSchema, RiskRead, (*Tools).readDoc),
	newTool("lookup_customer", "Find a customer by id, name or email.", LookupCustomerSchema, RiskRead, (*Tools).lookupCustomer),
	newTool("lookup_order", "Read an order: item, amount, status, refunds.", LookupOrderSchema, RiskRead, (*Tools).lookupOrder),
	newTool("order_history", "List a customer's recent orders.", OrderHistorySchema, RiskRead, (*Tools).orderHistory),
	newTool("calculate", "Evaluate arithmetic exactly.", CalculateSchema, RiskRead, (*Tools).calculate),
	withDetails(newTool("send_message", "Send a message to a customer's email on file.", SendMessageSchema, RiskExternal, (*Tools).sendMessage),
		(*Tools).messageDetails),
	withDetails(newTool("issue_refund", "Refund all or part of an order.", IssueRefundSchema, RiskWrite, (*Tools).issueRefund),
		(*Tools).refundDetails),
	newTool("remember", "Keep a fact about a subject (a customer, a campaign) for later runs; personal data is stored as its kind only.",
		RememberSchema, RiskWrite, (*Tools).remember),
	newTool("recall", "Read what earlier runs remembered about a subject, newest first.", RecallSchema, RiskRead, (*Tools).recall),
}, marketingTools...)

// Tools runs the agent tools that are not workflows: read-only tools as
// local activities (ReadTool), side effects as activities (WriteTool).
type Tools struct {
	Store     *Store
	CorpusDir string
	// ReportsDir is where reports the agents write go, beside the store.
	ReportsDir string
	// Tracer makes an execute_tool span of each call, and Metrics counts
	// it; both do nothing when unset.
	Tracer  trace.Tracer
	Metrics *telemetry.Metrics
	// MCP reaches the MCP servers of the data policy; nil when it declares none.
	MCP *mcptools.Pool
	// Redactor replaces personal data in what agents remember; nil keeps
	// it as it is.
	Redactor *redact.Redactor
}

// ErrToolInput is the application error type of a tool call whose
// arguments name something that does not exist; the agent sees it as an
// observation.
const ErrToolInput = "ToolInput"

// ReadTool runs a read-only tool of the registry (a local activity).
func (t *Tools) ReadTool(ctx context.Context, call ToolCall) (ToolResult, error) {
	tool, ok := ActivityToolNamed(call.Name)
	if !ok || tool.Writes {
		return ToolResult{}, nonRetryable(ErrToolInput, "there is no read-only tool %q", call.Name)
	}
	return t.execute(ctx, tool, call)
}

// WriteTool runs a tool of the registry with side effects, once per run
// and step; a sandboxed run records the call instead.
func (t *Tools) WriteTool(ctx context.Context, call ToolCall) (ToolResult, error) {
	tool, ok := ActivityToolNamed(call.Name)
	if !ok || !tool.Writes {
		return ToolResult{}, nonRetryable(ErrToolInput, "there is no tool with side effects %q", call.Name)
	}
	if sim, err := t.Store.simulated(ctx, call.Name, call.key(), call.RunKey, call); sim {
		return ToolResult{Observation: fmt.Sprintf("sandbox: %s %s was recorded, not carried out", call.Name, call.Args)}, err
	}
	return t.execute(ctx, tool, call)
}

// execute runs a tool in an execute_tool span (no arguments or results in
// it: they may hold personal data) and counts it by outcome.
func (t *Tools) execute(ctx context.Context, tool ActivityTool, call ToolCall) (ToolResult, error) {
	tracer, metrics := t.Tracer, t.Metrics
	if tracer == nil {
		tracer = noop.NewTracerProvider().Tracer(telemetry.Name)
	}
	if metrics == nil {
		metrics = telemetry.Discard
	}
	ctx, span := tracer.Start(ctx, "execute_tool "+call.Name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		semconv.GenAIOperationNameExecuteTool, semconv.GenAIToolName(call.Name), attribute.Int("tandem.agent.step", call.Step),
		attribute.Bool("tandem.tool.writes", tool.Writes)))
	defer span.End()
	start := time.Now()
	res, err := tool.do(ctx, t, call)
	outcome := "ok"
	if err != nil {
		outcome = "failed"
		span.SetStatus(codes.Error, err.Error())
	}
	metrics.ToolExecuted(ctx, call.Name, outcome, time.Since(start))
	return res, err
}

// ApprovalDetails is what a person sees of a tool call before allowing it,
// beyond its arguments, as the tool describes it; "" for a tool that adds
// nothing.
func (t *Tools) ApprovalDetails(ctx context.Context, call ToolCall) (string, error) {
	tool, ok := ActivityToolNamed(call.Name)
	if !ok || tool.details == nil {
		return "", nil
	}
	return tool.details(ctx, t, call)
}

// key is the idempotency key of a call's side effect: its run and step.
func (c ToolCall) key() string { return fmt.Sprintf("%s/%d", c.RunKey, c.Step) }

// sendMessage queues a message to the customer's address on file, once
// per run and step.
func (t *Tools) sendMessage(ctx context.Context, call ToolCall, a SendMessageArgs) (ToolResult, error) {
	contact, err := t.Store.contactFor(ctx, a.CustomerID)
	if errors.Is(err, errNoCustomer) {
		return ToolResult{Observation: fmt.Sprintf("no customer %s with an address on file; nothing was sent", a.CustomerID)}, nil
	} else if err != nil {
		return ToolResult{}, err
	}
	if err := t.Store.Notify(ctx, Notification{IdempotencyKey: call.key(), Recipients: []string{contact.Email}, Subject: a.Subject,
		Body: a.Body, WorkflowID: call.RunKey}); err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: fmt.Sprintf("message %q queued to %s (outbox %s)", a.Subject, contact.Email, call.key())}, nil
}

func (t *Tools) readDoc(ctx context.Context, call ToolCall, a ReadDocArgs) (ToolResult, error) {
	name := filepath.Base(strings.TrimSpace(a.Name))
	if !strings.HasSuffix(name, ".md") {
		name += ".md"
	}
	body, err := os.ReadFile(filepath.Join(t.CorpusDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return ToolResult{Observation: fmt.Sprintf("there is no document %q; search_docs lists what there is", a.Name)}, nil
	} else if err != nil {
		return ToolResult{}, fmt.Errorf("read document %s: %w", name, err)
	}
	return t.bounded(ctx, fmt.Sprintf("%s/%d", call.RunKey, call.Step), string(body), []string{name})
}

// bounded returns text as an observation, storing it as an artifact and
// returning its start when it is too long to travel in history.
func (t *Tools) bounded(ctx context.Context, ref, text string, read []string) (ToolResult, error) {
	if len(text) <= MaxObservation {
		return ToolResult{Observation: text, Read: read}, nil
	}
	if err := t.Store.Records.SaveArtifact(ctx, ref, text); err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: text[:MaxObservation] + fmt.Sprintf("… (%d characters in all; stored as %s)", len(text), ref),
		Read: read, Ref: ref}, nil
}

func (t *Tools) lookupCustomer(ctx context.Context, _ ToolCall, a LookupCustomerArgs) (ToolResult, error) {
	q := strings.TrimSpace(a.Query)
	var found []store.Customer
	for _, by := range []store.CustomerKey{store.CustomerByID, store.CustomerByName, store.CustomerByEmail} {
		var err error
		if found, err = t.Store.Records.Customers(ctx, by, q, 1); err != nil {
			return ToolResult{}, err
		} else if len(found) > 0 {
			break
		}
	}
	if len(found) == 0 {
		return ToolResult{Observation: fmt.Sprintf("no customer matches %q", q)}, nil
	}
	c := found[0]
	if err := t.Store.Records.RememberNames(ctx, runScope(ctx), c.Name); err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: fmt.Sprintf("customer %s: %s <%s>, %s tier, customer since %s", c.ID, c.Name, c.Email, c.Tier, c.Since)}, nil
}

func (t *Tools) lookupOrder(ctx context.Context, _ ToolCall, a LookupOrderArgs) (ToolResult, error) {
	id := a.OrderID
	o, err := t.Store.Records.Order(ctx, strings.TrimSpace(id))
	if errors.Is(err, store.ErrNotFound) {
		return ToolResult{Observation: fmt.Sprintf("no order %q", id)}, nil
	} else if err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: fmt.Sprintf("order %s of customer %s: %s, %s, ordered %s, status: %s, refunded so far %s",
		o.ID, o.Customer, o.Item, money.Format(o.Amount, o.Currency), o.OrderedAt, o.Status, money.Format(o.Refunded, o.Currency))}, nil
}

func (t *Tools) orderHistory(ctx context.Context, _ ToolCall, a OrderHistoryArgs) (ToolResult, error) {
	orders, err := t.Store.Records.Orders(ctx, a.CustomerID, 10)
	if err != nil {
		return ToolResult{}, err
	}
	if len(orders) == 0 {
		return ToolResult{Observation: fmt.Sprintf("customer %q has no orders", a.CustomerID)}, nil
	}
	lines := make([]string, len(orders))
	for i, o := range orders {
		lines[i] = fmt.Sprintf("%s %s: %s, %s, %s", o.OrderedAt, o.ID, o.Item, money.Format(o.Amount, o.Currency), o.Status)
	}
	return ToolResult{Observation: strings.Join(lines, "\n")}, nil
}

func (t *Tools) issueRefund(ctx context.Context, call ToolCall, a IssueRefundArgs) (ToolResult, error) {
	key := call.key()
	r, err := t.Store.Records.IssueRefund(ctx, store.Refund{IdempotencyKey: key, OrderID: a.OrderID, Amount: a.Amount,
		Reason: a.Reason, ApprovedBy: cmp.Or(call.ApprovedBy, "policy")})
	var obs string
	switch {
	case errors.Is(err, store.ErrNotFound):
		obs = fmt.Sprintf("no order %q; nothing was refunded", a.OrderID)
	case err != nil:
		return ToolResult{}, err
	case r.Already:
		obs = fmt.Sprintf("refund %s of %s on order %s was already issued", key, money.Format(r.Amount, r.Order.Currency), a.OrderID)
	case r.Refused != "":
		asked := money.Format(a.Amount, r.Order.Currency)
		if _, inexact := money.ToMinor(a.Amount, r.Order.Currency); inexact != nil {
			asked = a.Amount.String() // as given, not rounded
		}
		obs = fmt.Sprintf("refund of %s refused: %s", asked, r.Refused)
	default:
		obs = fmt.Sprintf("refunded %s on order %s (refund %s)", money.Format(a.Amount, r.Order.Currency), a.OrderID, key)
	}
	return ToolResult{Observation: obs}, nil
}

func formatNumber(v float64) string {
	s := fmt.Sprintf("%.6f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// calculate evaluates arithmetic; a mistake in it is an observation.
func (t *Tools) calculate(_ context.Context, _ ToolCall, a CalculateArgs) (ToolResult, error) {
	v, err := Calculate(a.Expression)
	if err != nil {
		return ToolResult{Observation: "calculation failed: " + err.Error()}, nil
	}
	return ToolResult{Observation: fmt.Sprintf("%s = %s", a.Expression, formatNumber(v))}, nil
}
