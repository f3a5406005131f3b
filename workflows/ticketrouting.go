package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/schema"
)

// Ticket is a support ticket as it arrives.
type Ticket struct {
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	Customer   string `json:"customer"`             // the name the customer gave
	Channel    string `json:"channel"`              // email, chat, phone, web
	Email      string `json:"email,omitempty"`      // the address the ticket came from, if any
	CustomerID string `json:"customerId,omitempty"` // the customer's id, when the channel knows it
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
	Sandbox        bool                   `json:"sandbox,omitempty"` // the store and the outbox recorded, not written
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
	for _, f := range []struct {
		name, value string
		max         int
	}{{"subject", t.Subject, 200}, {"customer", t.Customer, 200}, {"body", t.Body, 20000}, {"email", t.Email, 254}, {"customerId", t.CustomerID, 64}} {
		if err := maxLength("the ticket's "+f.name, f.value, f.max); err != nil {
			return err
		}
		if err := PlainText("ticket."+f.name, f.value); err != nil {
			return err
		}
	}
	if !slices.Contains(TicketChannels, t.Channel) {
		return fmt.Errorf("the ticket's channel %q is not one of %s", t.Channel, strings.Join(TicketChannels, ", "))
	}
	return fitsModel("the ticket", ticketPrompt(t), draftAnswerTokens, 0)
}

// Check refuses, with a sentence, an input that cannot be routed or that
// names its own reviewers.
func (in TicketRoutingInput) Check() error {
	if err := in.Ticket.Validate(); err != nil {
		return err
	}
	return checkNarrows(in.Review)
}

// TicketRouting reads a support ticket with the model, routes it by a fixed
// table, drafts a reply in the customer's language, has a person review the
// risky ones, stores the outcome and sends the reply to the customer's
// address.
func TicketRouting(ctx workflow.Context, in TicketRoutingInput) (TicketRoutingResult, error) {
	if err := in.Check(); err != nil {
		return TicketRoutingResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidTicket, nil)
	}
	d, err := registerDecisions(ctx, "ticket-routing")
	if err != nil {
		return TicketRoutingResult{}, err
	}
	if ctx, _, err = recordDataPolicy(ctx); err != nil {
		return TicketRoutingResult{}, err
	}
	model, err := resolveModel(ctx, in.Model)
	if err != nil {
		return TicketRoutingResult{}, err
	}
	// Who wrote in, and where a reply goes; the data policy redacts their
	// name from the model calls that follow.
	contact, err := resolveCustomer(ctx, "resolve the customer's address",
		activities.CustomerQuery{ID: in.Ticket.CustomerID, Email: in.Ticket.Email, Name: in.Ticket.Customer})
	if err != nil {
		return TicketRoutingResult{}, err
	}
	result := TicketRoutingResult{Sandbox: sandbox.InWorkflow(ctx)}

	d.stepWith(ctx, "classifying", "Classifying the ticket with "+model.Model, KindKey.ValueSet("ticket-routing"))
	classified, err := classifyTicket(ctx, model, in.Ticket)
	switch {
	case err == nil:
		result.Classification, result.ClassifiedBy = classified.classification, "model"
		result.ModelCalls = append(result.ModelCalls, classified.call)
		usedModel(ctx, classified.call)
	case isErrorType(err, activities.ErrModelInvalidAnswer):
		result.Classification = fallbackClassification(in.Ticket)
		result.ClassifiedBy = "fallback: " + rootMessage(err)
	default:
		return result, err
	}

	result.Route = RouteFor(result.Classification.Category, result.Classification.Priority)
	d.stepWith(ctx, "drafting", "Drafting a reply for queue "+result.Route.Queue,
		CategoryKey.ValueSet(result.Classification.Category), QueueKey.ValueSet(result.Route.Queue))
	draft, err := draftReply(ctx, model, in.Ticket, result.Classification)
	if err != nil {
		return result, err
	}
	result.DraftReply = draft.Text
	result.ModelCalls = append(result.ModelCalls, draft.Call)
	usedModel(ctx, draft.Call)

	result.Review = reviewReply(ctx, d, in, result, contact)
	if result.Review.Sent {
		result.DraftReply = result.Review.Reply
	}

	if result.Review.Sent {
		d.pass(ctx, "storing", "Storing the routed ticket and sending the reply to "+contact.Email)
	} else {
		d.pass(ctx, "storing", "Storing the routed ticket")
	}
	if err := saveTicket(ctx, in.Ticket, result, contact); err != nil {
		return result, err
	}
	d.step(ctx, "done", fmt.Sprintf("Routed to %s (SLA %d min)", result.Route.Queue, result.Route.SLAMinutes))
	return result, nil
}

// resolveCustomer finds a customer's record and the address a message to
// them goes to (a short read of the store).
func resolveCustomer(ctx workflow.Context, summary string, q activities.CustomerQuery) (activities.CustomerContact, error) {
	var store *activities.Store
	var contact activities.CustomerContact
	err := workflow.ExecuteLocalActivity(withLookup(ctx, summary), store.ResolveCustomer, q).Get(ctx, &contact)
	return contact, err
}

// TicketReview is what happened to a drafted reply before it went out.
type TicketReview struct {
	Required  bool      `json:"required"`
	Why       []string  `json:"why,omitempty"`       // why a person reviews it
	Recipient string    `json:"recipient,omitempty"` // where the reply goes, as the reviewer saw it
	Decision  *Decision `json:"decision,omitempty"`
	Edited    bool      `json:"edited"`
	Sent      bool      `json:"sent"`
	Reply     string    `json:"reply,omitempty"`  // the reply as sent
	Unsent    string    `json:"unsent,omitempty"` // why no reply went out without a person saying no
}

// reviewReply sends low-risk drafts straight out and puts the others to a
// person, who approves, edits or rejects them. A reply the model could not
// classify is always reviewed; a reply with no deliverable address is never
// queued.
func reviewReply(ctx workflow.Context, d *decisions, in TicketRoutingInput, res TicketRoutingResult, contact activities.CustomerContact) *TicketReview {
	c := res.Classification
	review := &TicketReview{Recipient: contact.Recipient()}
	if contact.Email == "" {
		review.Unsent = "no deliverable address: the ticket gives no email and no customer record matches; the reply waits in queue " + res.Route.Queue
		return review
	}
	if c.Priority == "high" || c.Priority == "urgent" {
		review.Why = append(review.Why, c.Priority+" priority")
	}
	if c.Sentiment == "negative" {
		review.Why = append(review.Why, "negative sentiment")
	}
	if res.ClassifiedBy != "model" {
		review.Why = append(review.Why, "the model could not classify the ticket, so the route and the reply are a fallback")
	}
	if review.Required = len(review.Why) > 0; !review.Required {
		review.Sent, review.Reply = true, res.DraftReply
		return review
	}
	policy := DefaultTicketReviewPolicy
	if in.Review.Deadline > 0 {
		policy.Deadline = in.Review.Deadline
	}
	dec := d.ask(ctx, Question{
		Text:      fmt.Sprintf("Send this reply to %s? Review because: %s.", review.Recipient, strings.Join(review.Why, "; ")),
		Details:   fmt.Sprintf("To: %s\nSubject: Re: %s\n\n%s", review.Recipient, in.Ticket.Subject, res.DraftReply),
		AllowEdit: true,
	}, policy)
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

// saveTicket stores the routed ticket and, when the reply goes out, its
// outbox message, in one transaction.
func saveTicket(ctx workflow.Context, t Ticket, res TicketRoutingResult, to activities.CustomerContact) error {
	info := workflow.GetInfo(ctx)
	id := info.WorkflowExecution.ID
	record := activities.TicketRecord{
		IdempotencyKey: id,
		WorkflowID:     id,
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
	var reply *activities.Notification
	summary := "store ticket in queue " + res.Route.Queue
	if r := res.Review; r != nil {
		record.ReplySent = r.Sent
		if r.Decision != nil {
			record.ReviewedBy = r.Decision.By
		}
		if r.Sent {
			reply = &activities.Notification{IdempotencyKey: id + "/reply", Recipients: []string{to.Email},
				Subject: "Re: " + t.Subject, Body: r.Reply, WorkflowID: id}
			summary += " and send the reply to " + to.Email
		}
	}
	var store *activities.Store
	return workflow.ExecuteActivity(withStore(ctx, summary), store.SaveTicket,
		activities.RoutedTicket{Ticket: record, Reply: reply}).Get(ctx, nil)
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

// draftAnswerTokens bounds a drafted reply.
const draftAnswerTokens = 300

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
		Options: activities.ModelOptions{MaxTokens: draftAnswerTokens},
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
