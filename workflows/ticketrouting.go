package workflows

import (
	"errors"
	"fmt"
	"strings"

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
	Ticket Ticket        `json:"ticket"`
	Model  ModelSettings `json:"model,omitempty"`
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
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		KindKey.ValueSet("ticket-routing"), CustomerKey.ValueSet(in.Ticket.Customer))
	model, err := resolveModel(ctx, in.Model)
	if err != nil {
		return TicketRoutingResult{}, err
	}
	var result TicketRoutingResult

	setStep(ctx, "classifying", "Classifying the ticket with "+model.Model)
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
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		CategoryKey.ValueSet(result.Classification.Category), QueueKey.ValueSet(result.Route.Queue))

	setStep(ctx, "drafting", "Drafting a reply for queue "+result.Route.Queue)
	draft, err := draftReply(ctx, model, in.Ticket, result.Classification)
	if err != nil {
		return result, err
	}
	result.DraftReply = draft.Text
	result.ModelCalls = append(result.ModelCalls, draft.Call)

	setStep(ctx, "storing", "Storing the routed ticket")
	info := workflow.GetInfo(ctx)
	record := activities.TicketRecord{
		IdempotencyKey: info.WorkflowExecution.ID,
		WorkflowID:     info.WorkflowExecution.ID,
		RunID:          info.WorkflowExecution.RunID,
		Subject:        in.Ticket.Subject,
		Customer:       in.Ticket.Customer,
		Channel:        in.Ticket.Channel,
		Category:       result.Classification.Category,
		Priority:       result.Classification.Priority,
		Sentiment:      result.Classification.Sentiment,
		Language:       result.Classification.Language,
		Summary:        result.Classification.Summary,
		Queue:          result.Route.Queue,
		SLAMinutes:     result.Route.SLAMinutes,
		DraftReply:     result.DraftReply,
		ClassifiedBy:   result.ClassifiedBy,
		RoutedAt:       workflow.Now(ctx).UTC(),
	}
	var store *activities.Store
	if err := workflow.ExecuteActivity(withStore(ctx, "store ticket in queue "+result.Route.Queue), store.SaveTicket, record).Get(ctx, nil); err != nil {
		return result, err
	}
	setStep(ctx, "done", fmt.Sprintf("Routed to %s (SLA %d min)", result.Route.Queue, result.Route.SLAMinutes))
	return result, nil
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
