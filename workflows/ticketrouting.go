package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/schema"
)

// TicketRoutingName is the workflow type name of ticket routing.
const TicketRoutingName = "TicketRouting"

// Ticket is a support ticket as it arrives.
type Ticket struct {
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	Customer string `json:"customer"`
	Channel  string `json:"channel"` // email, chat, phone, web
}

// TicketRoutingInput starts a ticket routing.
type TicketRoutingInput struct {
	Ticket Ticket         `json:"ticket"`
	Model  ModelSettings  `json:"model,omitzero"`
	Review DecisionPolicy `json:"review,omitzero"` // who reviews risky drafts; DefaultTicketReviewPolicy when empty
}

// TicketClassification is the model's reading of a ticket.
type TicketClassification struct {
	Category  string `json:"category"`
	Priority  string `json:"priority"`
	Sentiment string `json:"sentiment"`
	Language  string `json:"language"`
	Summary   string `json:"summary"`
}

// TicketRoutingResult is what ticket routing decided and stored.
type TicketRoutingResult struct {
	Classification TicketClassification   `json:"classification"`
	ClassifiedBy   string                 `json:"classifiedBy"` // "model", or "fallback: <why>"
	Route          Route                  `json:"route"`
	DraftReply     string                 `json:"draftReply"`
	ModelCalls     []activities.ModelCall `json:"modelCalls"`
	Review         *TicketReview          `json:"review,omitempty"`
}

// The fixed lists the classification chooses from.
var (
	TicketCategories = []string{"billing", "technical", "account", "shipping", "returns", "feedback", "other"}
	TicketPriorities = []string{"low", "normal", "high", "urgent"}
	TicketSentiments = []string{"positive", "neutral", "negative"}
	TicketLanguages  = []string{"en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "fi", "other"}
	TicketChannels   = []string{"email", "chat", "phone", "web"}
)

// ticketClassificationSchema is the JSON schema of TicketClassification.
var ticketClassificationSchema = schema.Object(
	schema.Prop("category", schema.Enum("what the ticket is about", TicketCategories...)),
	schema.Prop("priority", schema.Enum("how urgent it is for the customer", TicketPriorities...)),
	schema.Prop("sentiment", schema.Enum("the customer's mood", TicketSentiments...)),
	schema.Prop("language", schema.Enum("ISO 639-1 code of the ticket's language", TicketLanguages...)),
	schema.Prop("summary", schema.String("the ticket in one line", 160)),
)

// ErrInvalidTicket is the application error type of a ticket that cannot be routed.
const ErrInvalidTicket = "InvalidTicket"

// Validate reports the first thing wrong with the ticket, as one sentence.
func (t Ticket) Validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"subject", t.Subject}, {"body", t.Body}, {"customer", t.Customer}, {"channel", t.Channel},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the ticket has no %s; give it subject, body, customer and channel", strings.Join(missing, ", "))
	}
	for _, c := range TicketChannels {
		if t.Channel == c {
			return nil
		}
	}
	return fmt.Errorf("the ticket's channel %q is not one of %s", t.Channel, strings.Join(TicketChannels, ", "))
}

// TicketRouting reads a support ticket with the model, routes it by a fixed
// table, drafts a reply in the customer's language, and stores the outcome.
func TicketRouting(ctx workflow.Context, in TicketRoutingInput) (TicketRoutingResult, error) {
	if err := in.Ticket.Validate(); err != nil {
		return TicketRoutingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidTicket, nil)
	}
	d, err := registerDecisions(ctx, "ticket-routing")
	if err != nil {
		return TicketRoutingResult{}, err
	}
	// Runs since the data policy take every change at once, under one
	// version marker; older runs replay the sequence they recorded.
	current := workflow.GetVersion(ctx, "ticket-routing-policy", workflow.DefaultVersion, 1) == 1
	withReview := true
	if current {
		if ctx, _, err = recordDataPolicy(ctx); err != nil {
			return TicketRoutingResult{}, err
		}
	} else {
		withReview = replayLegacyStart(ctx, in.Ticket)
	}
	model, err := resolveModel(ctx, in.Model)
	if err != nil {
		return TicketRoutingResult{}, err
	}
	var result TicketRoutingResult

	// Search attributes travel together: each upsert is a history event and
	// a visibility write.
	if current {
		d.stepWith(ctx, "classifying", "Classifying the ticket with "+model.Model, KindKey.ValueSet("ticket-routing"))
	} else {
		d.step(ctx, "classifying", "Classifying the ticket with "+model.Model)
	}
	classified, err := classifyTicket(ctx, model, in.Ticket)
	switch {
	case err == nil:
		result.Classification, result.ClassifiedBy = classified.classification, "model"
		result.ModelCalls = append(result.ModelCalls, classified.call)
	case isErrorType(err, activities.ErrModelInvalidAnswer):
		result.Classification = fallbackClassification(in.Ticket)
		result.ClassifiedBy = "fallback: " + rootMessage(err)
	default:
		return result, err
	}

	result.Route = RouteFor(result.Classification.Category, result.Classification.Priority)
	routed := []temporal.SearchAttributeUpdate{CategoryKey.ValueSet(result.Classification.Category), QueueKey.ValueSet(result.Route.Queue)}
	if current {
		d.stepWith(ctx, "drafting", "Drafting a reply for queue "+result.Route.Queue, routed...)
	} else {
		_ = workflow.UpsertTypedSearchAttributes(ctx, routed...)
		d.step(ctx, "drafting", "Drafting a reply for queue "+result.Route.Queue)
	}
	draft, err := draftReply(ctx, model, in.Ticket, result.Classification)
	if err != nil {
		return result, err
	}
	result.DraftReply = draft.Text
	result.ModelCalls = append(result.ModelCalls, draft.Call)

	if withReview {
		result.Review = reviewReply(ctx, d, in, result)
		if result.Review.Sent {
			result.DraftReply = result.Review.Reply
		}
	}

	passing := d.step
	if current {
		passing = d.pass
	}
	passing(ctx, "storing", "Storing the routed ticket")
	if err := saveTicket(ctx, in.Ticket, result); err != nil {
		return result, err
	}
	if withReview && result.Review.Sent {
		passing(ctx, "sending", "Sending the reply to "+in.Ticket.Customer)
		if err := sendReply(ctx, in.Ticket, result.Review.Reply); err != nil {
			return result, err
		}
	}
	d.step(ctx, "done", fmt.Sprintf("Routed to %s (SLA %d min)", result.Route.Queue, result.Route.SLAMinutes))
	return result, nil
}

// replayLegacyStart replays the start of runs from before data policies:
// the customer search attribute (before encryption kept it out) and the
// review (before it existed), each behind its own version marker. It
// reports whether the run reviews drafts.
func replayLegacyStart(ctx workflow.Context, t Ticket) bool {
	if workflow.GetVersion(ctx, "customer-search-attribute", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		_ = workflow.UpsertTypedSearchAttributes(ctx, KindKey.ValueSet("ticket-routing"), CustomerKey.ValueSet(t.Customer))
	} else {
		_ = workflow.UpsertTypedSearchAttributes(ctx, KindKey.ValueSet("ticket-routing"))
	}
	return workflow.GetVersion(ctx, "ticket-review", workflow.DefaultVersion, 1) >= 1
}

// TicketReview is what happened to a drafted reply before it went out.
type TicketReview struct {
	Required bool      `json:"required"` // high priority or negative sentiment
	Decision *Decision `json:"decision,omitempty"`
	Edited   bool      `json:"edited"`
	Sent     bool      `json:"sent"`
	Reply    string    `json:"reply,omitempty"` // the reply as sent
}

// reviewReply sends low-risk drafts straight out and puts the others to a
// person, who approves, edits or rejects them.
func reviewReply(ctx workflow.Context, d *decisions, in TicketRoutingInput, res TicketRoutingResult) *TicketReview {
	c := res.Classification
	review := &TicketReview{Required: c.Priority == "high" || c.Priority == "urgent" || c.Sentiment == "negative"}
	if !review.Required {
		review.Sent, review.Reply = true, res.DraftReply
		return review
	}
	policy := in.Review
	if len(policy.Approvers) == 0 {
		policy = DefaultTicketReviewPolicy
	}
	question := fmt.Sprintf("Send this %s-priority reply to %s (%s)? Draft: %s", c.Priority, in.Ticket.Customer, c.Sentiment, res.DraftReply)
	dec := d.ask(ctx, question, true, policy)
	review.Decision = &dec
	switch {
	case !dec.Approve:
	case dec.Edit != "":
		review.Sent, review.Edited, review.Reply = true, true, dec.Edit
	default:
		review.Sent, review.Reply = true, res.DraftReply
	}
	return review
}

// DefaultTicketReviewPolicy is who reviews risky drafts, and how long they have.
var DefaultTicketReviewPolicy = DecisionPolicy{
	Approvers:     []string{"support.agent", "support.lead"},
	EscalateTo:    []string{"support.lead"},
	RemindEvery:   30 * time.Minute,
	EscalateAfter: 2 * time.Hour,
	Deadline:      8 * time.Hour,
	OnDeadline:    "reject",
}

func saveTicket(ctx workflow.Context, t Ticket, res TicketRoutingResult) error {
	info := workflow.GetInfo(ctx)
	record := activities.TicketRecord{
		IdempotencyKey: info.WorkflowExecution.ID,
		WorkflowID:     info.WorkflowExecution.ID,
		RunID:          info.WorkflowExecution.RunID,
		Subject:        t.Subject,
		Customer:       t.Customer,
		Channel:        t.Channel,
		Category:       res.Classification.Category,
		Priority:       res.Classification.Priority,
		Sentiment:      res.Classification.Sentiment,
		Language:       res.Classification.Language,
		Summary:        res.Classification.Summary,
		Queue:          res.Route.Queue,
		SLAMinutes:     res.Route.SLAMinutes,
		DraftReply:     res.DraftReply,
		ClassifiedBy:   res.ClassifiedBy,
		RoutedAt:       workflow.Now(ctx).UTC(),
	}
	if r := res.Review; r != nil {
		record.ReplySent = r.Sent
		if r.Decision != nil {
			record.ReviewedBy = r.Decision.By
		}
	}
	var store *activities.Store
	return workflow.ExecuteActivity(withStore(ctx, "store ticket in queue "+res.Route.Queue), store.SaveTicket, record).Get(ctx, nil)
}

func sendReply(ctx workflow.Context, t Ticket, reply string) error {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	var store *activities.Store
	return workflow.ExecuteActivity(withStore(ctx, "send the reply to "+t.Customer), store.Notify, activities.Notification{
		IdempotencyKey: id + "/reply", Recipients: []string{t.Customer}, Subject: "Re: " + t.Subject, Body: reply, WorkflowID: id,
	}).Get(ctx, nil)
}

type classifiedTicket struct {
	classification TicketClassification
	call           activities.ModelCall
}

func classifyTicket(ctx workflow.Context, model ModelSettings, t Ticket) (classifiedTicket, error) {
	req := activities.ChatRequest{
		Purpose: "classify ticket",
		Model:   model.Model,
		Messages: []activities.Message{
			{Role: "system", Content: "You triage customer support tickets. Read the ticket and answer with JSON only: " +
				"its category, priority, the customer's sentiment, the ISO 639-1 code of its language, and a one-line summary in English."},
			{Role: "user", Content: ticketPrompt(t)},
		},
		Schema:  ticketClassificationSchema,
		Options: activities.ModelOptions{MaxTokens: 256},
	}
	var res activities.ChatResult
	summary := "classify ticket: category, priority, sentiment, language"
	if err := workflow.ExecuteActivity(withModel(ctx, model, summary), new(activities.Model).Chat, req).Get(ctx, &res); err != nil {
		return classifiedTicket{}, err
	}
	c, err := decodeAnswer[TicketClassification](res)
	if err != nil {
		return classifiedTicket{}, err
	}
	return classifiedTicket{classification: c, call: res.Call}, nil
}

func draftReply(ctx workflow.Context, model ModelSettings, t Ticket, c TicketClassification) (activities.ChatResult, error) {
	req := activities.ChatRequest{
		Purpose: "draft reply",
		Model:   model.Model,
		Messages: []activities.Message{
			{Role: "system", Content: fmt.Sprintf("You write short, polite replies to customer support tickets. "+
				"Write in the language with ISO 639-1 code %q (English if it is \"other\"). "+
				"Acknowledge the issue, say what happens next, and do not promise refunds or dates.", c.Language)},
			{Role: "user", Content: ticketPrompt(t)},
		},
		Options: activities.ModelOptions{MaxTokens: 300},
	}
	var res activities.ChatResult
	summary := "draft reply in " + c.Language
	err := workflow.ExecuteActivity(withModel(ctx, model, summary), new(activities.Model).Chat, req).Get(ctx, &res)
	return res, err
}

// fallbackClassification sends a ticket the model could not read to triage.
func fallbackClassification(t Ticket) TicketClassification {
	return TicketClassification{Category: "other", Priority: "normal", Sentiment: "neutral", Language: "other", Summary: t.Subject}
}

func ticketPrompt(t Ticket) string {
	return fmt.Sprintf("Channel: %s\nCustomer: %s\nSubject: %s\n\n%s", t.Channel, t.Customer, t.Subject, t.Body)
}

// isErrorType reports whether err is, or wraps, an application error of type typ.
func isErrorType(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ
}

// rootMessage is the message of the application error inside err.
func rootMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
