package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/schema"
)

type ticketRoutingSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env    *testsuite.TestWorkflowEnvironment
	model  *activities.Model
	store  *activities.Store
	sent   []activities.Notification // replies that went out
	stored activities.TicketRecord   // the routed ticket as stored
}

func TestTicketRouting(t *testing.T) { suite.Run(t, new(ticketRoutingSuite)) }

func (s *ticketRoutingSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterActivity(s.model)
	s.env.RegisterActivity(s.store)
	settings := testSettings(nil)
	settings.Model, settings.ModelTaskQueue = "worker-model", "worker-models"
	s.env.RegisterActivity(settings)
	s.sent = nil
	s.env.OnActivity(s.store.ResolveCustomer, mock.Anything, mock.Anything).Return(
		func(_ context.Context, q activities.CustomerQuery) (activities.CustomerContact, error) {
			if q.Name == "Acme" {
				return activities.CustomerContact{ID: "C-9", Name: "Acme", Email: "billing@acme.example", OnFile: true, MatchedBy: "name"}, nil
			}
			return activities.CustomerContact{Name: q.Name, MatchedBy: "none"}, nil
		}).Maybe()
}

// expectSave expects the routed ticket to be stored once, and keeps it and
// the reply that goes out with it.
func (s *ticketRoutingSuite) expectSave() {
	s.env.OnActivity(s.store.SaveTicket, mock.Anything, mock.Anything).Return(func(_ context.Context, rt activities.RoutedTicket) error {
		s.stored = rt.Ticket
		if rt.Reply != nil {
			s.sent = append(s.sent, *rt.Reply)
		}
		return nil
	}).Once()
}

func (s *ticketRoutingSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

var testTicket = Ticket{Subject: "Charged twice", Body: "Two charges of 49 EUR in March.", Customer: "Acme", Channel: "email"}

func testInput() TicketRoutingInput {
	return TicketRoutingInput{Ticket: testTicket, Model: ModelSettings{Model: "m", TaskQueue: "q"}}
}

func classification(category, priority string) activities.ChatResult {
	return classificationWith(category, priority, "neutral")
}

func classificationWith(category, priority, sentiment string) activities.ChatResult {
	answer, _ := json.Marshal(TicketClassification{Category: category, Priority: priority, Sentiment: sentiment, Language: "de", Summary: "double charge"})
	return activities.ChatResult{Answer: answer, Call: activities.ModelCall{Purpose: "classify ticket", Model: "m", PromptTokens: 10, OutputTokens: 20}}
}

func draft(text string) activities.ChatResult {
	return activities.ChatResult{Text: text, Call: activities.ModelCall{Purpose: "draft reply", Model: "m", PromptTokens: 12, OutputTokens: 30}}
}

func isPurpose(purpose string) any {
	return mock.MatchedBy(func(r activities.ChatRequest) bool { return r.Purpose == purpose })
}

func (s *ticketRoutingSuite) TestClassifiesRoutesDraftsAndStores() {
	var classifyReq, draftReq activities.ChatRequest
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).
		Run(func(args mock.Arguments) { classifyReq = args.Get(1).(activities.ChatRequest) }).
		Return(classification("billing", "high"), nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).
		Run(func(args mock.Arguments) { draftReq = args.Get(1).(activities.ChatRequest) }).
		Return(draft("Guten Tag, wir prüfen die doppelte Abbuchung."), nil).Once()
	s.expectSave()

	decideAfter(s.env, time.Minute, Decision{Approve: true, By: "support.agent"})
	s.env.ExecuteWorkflow(TicketRouting, testInput())

	s.True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res TicketRoutingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal("billing", res.Classification.Category)
	s.Equal("model", res.ClassifiedBy)
	s.Equal(Route{Queue: "billing", SLAMinutes: 240}, res.Route)
	s.Equal("Guten Tag, wir prüfen die doppelte Abbuchung.", res.DraftReply)
	s.Len(res.ModelCalls, 2)

	s.Equal("m", classifyReq.Model)
	s.NoError(schema.Check(classifyReq.Schema), "classification sends a valid schema")
	s.Contains(classifyReq.Messages[1].Content, testTicket.Body)
	s.Empty(draftReq.Schema, "the draft is free text")
	s.Contains(draftReq.Messages[0].Content, `"de"`, "the draft is asked for in the ticket's language")

	s.Equal("billing", s.stored.Queue)
	s.Equal(240, s.stored.SLAMinutes)
	s.Equal("default-test-workflow-id", s.stored.IdempotencyKey)
	s.Equal(res.DraftReply, s.stored.DraftReply)
	s.True(s.stored.ReplySent)
	s.Equal("support.agent", s.stored.ReviewedBy)
	s.Require().Len(s.sent, 1)
	s.Equal([]string{"billing@acme.example"}, s.sent[0].Recipients, "the reply goes to the address on file, not to a name")
	s.Equal("Guten Tag, wir prüfen die doppelte Abbuchung.", s.sent[0].Body)
}

func (s *ticketRoutingSuite) routeWith(c activities.ChatResult, draftText string) TicketRoutingResult {
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).Return(c, nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).Return(draft(draftText), nil).Once()
	s.expectSave()
	s.env.ExecuteWorkflow(TicketRouting, testInput())
	s.Require().NoError(s.env.GetWorkflowError())
	var res TicketRoutingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

func (s *ticketRoutingSuite) TestLowRiskDraftGoesStraightOut() {
	res := s.routeWith(classificationWith("shipping", "normal", "neutral"), "Your parcel is on its way.")
	s.False(res.Review.Required)
	s.True(res.Review.Sent)
	s.Nil(res.Review.Decision)
	s.Require().Len(s.sent, 1)
	s.Equal("Your parcel is on its way.", s.sent[0].Body)
}

func (s *ticketRoutingSuite) TestNegativeSentimentDraftIsEditedBeforeItGoesOut() {
	refused := decideAfter(s.env, time.Minute, Decision{Approve: true, By: "support.lead", Edit: "We are sorry; a refund is on its way."})
	res := s.routeWith(classificationWith("shipping", "low", "negative"), "draft")
	s.NoError(*refused)
	s.True(res.Review.Required)
	s.True(res.Review.Edited)
	s.Equal("We are sorry; a refund is on its way.", res.DraftReply)
	s.Require().Len(s.sent, 1)
	s.Equal("We are sorry; a refund is on its way.", s.sent[0].Body)
}

func (s *ticketRoutingSuite) TestRejectedDraftIsNotSent() {
	decideAfter(s.env, time.Minute, Decision{Approve: false, By: "support.agent", Reason: "promises a refund"})
	res := s.routeWith(classificationWith("billing", "urgent", "neutral"), "draft")
	s.True(res.Review.Required)
	s.False(res.Review.Sent)
	s.Equal("promises a refund", res.Review.Decision.Reason)
	s.Empty(s.sent)
}

func (s *ticketRoutingSuite) TestUnreviewedDraftExpiresUnsent() {
	res := s.routeWith(classificationWith("billing", "high", "neutral"), "draft")
	s.Equal("deadline", res.Review.Decision.By)
	s.False(res.Review.Sent)
	s.Empty(s.sent)
}

func (s *ticketRoutingSuite) TestInvalidModelAnswerGoesToTriage() {
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).
		Return(activities.ChatResult{}, temporal.NewNonRetryableApplicationError("model m gave no usable answer", activities.ErrModelInvalidAnswer, nil)).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).Return(draft("Hello"), nil).Once()
	s.expectSave()

	s.env.ExecuteWorkflow(TicketRouting, testInput())

	s.Require().NoError(s.env.GetWorkflowError())
	var res TicketRoutingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal(TriageQueue, res.Route.Queue)
	s.Equal("other", res.Classification.Category)
	s.Equal(testTicket.Subject, res.Classification.Summary)
	s.Contains(res.ClassifiedBy, "fallback: model m gave no usable answer")
	s.Len(res.ModelCalls, 1, "only the draft call produced an answer")
	s.True(res.Review.Required, "a fallback never goes straight to the customer")
	s.Contains(res.Review.Why, "the model could not classify the ticket, so the route and the reply are a fallback")
	s.False(res.Review.Sent, "nobody reviewed it before the deadline")
	s.Empty(s.sent)
}

// TestAReplyWithNoAddressIsNotQueued: a ticket whose customer has no
// address on file and that came from no address leaves its reply unsent,
// without asking anyone to approve a message that cannot be delivered.
func (s *ticketRoutingSuite) TestAReplyWithNoAddressIsNotQueued() {
	in := testInput()
	in.Ticket.Customer = "Walk-in Customer"
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).Return(classification("billing", "low"), nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).Return(draft("Hello"), nil).Once()
	s.expectSave()
	s.env.ExecuteWorkflow(TicketRouting, in)
	s.Require().NoError(s.env.GetWorkflowError())
	var res TicketRoutingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.False(res.Review.Sent)
	s.Nil(res.Review.Decision)
	s.Contains(res.Review.Unsent, "no deliverable address")
	s.False(s.stored.ReplySent)
	s.Empty(s.sent)
}

func (s *ticketRoutingSuite) TestMissingModelFailsTheRun() {
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).
		Return(activities.ChatResult{}, temporal.NewNonRetryableApplicationError("model m is not on the Ollama server", activities.ErrModelNotFound, nil)).Once()

	s.env.ExecuteWorkflow(TicketRouting, testInput())

	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr))
	s.Equal(activities.ErrModelNotFound, appErr.Type())
}

func (s *ticketRoutingSuite) TestDraftFailureFailsTheRunWithoutStoring() {
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).Return(classification("technical", "urgent"), nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).
		Return(activities.ChatResult{}, temporal.NewNonRetryableApplicationError("prompt too long", activities.ErrModelContextTooLong, nil)).Once()

	s.env.ExecuteWorkflow(TicketRouting, testInput())

	s.Require().Error(s.env.GetWorkflowError())
	s.env.AssertNotCalled(s.T(), "SaveTicket", mock.Anything, mock.Anything)
}

func (s *ticketRoutingSuite) TestRetryableModelErrorIsRetried() {
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).
		Return(activities.ChatResult{}, temporal.NewApplicationError("Ollama is busy", activities.ErrModelBusy)).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).Return(classification("shipping", "low"), nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).Return(draft("Hi"), nil).Once()
	s.expectSave()

	s.env.ExecuteWorkflow(TicketRouting, testInput())

	s.Require().NoError(s.env.GetWorkflowError())
	var res TicketRoutingResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal(Route{Queue: "logistics", SLAMinutes: 3 * 24 * 60}, res.Route)
}

func (s *ticketRoutingSuite) TestEmptyModelSettingsComeFromTheWorker() {
	var req activities.ChatRequest
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("classify ticket")).
		Run(func(args mock.Arguments) { req = args.Get(1).(activities.ChatRequest) }).
		Return(classification("account", "normal"), nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, isPurpose("draft reply")).Return(draft("Hi"), nil).Once()
	s.expectSave()

	s.env.ExecuteWorkflow(TicketRouting, TicketRoutingInput{Ticket: testTicket})

	s.Require().NoError(s.env.GetWorkflowError())
	s.Equal("worker-model", req.Model)
}

func (s *ticketRoutingSuite) TestInvalidTicketIsRefused() {
	s.env.ExecuteWorkflow(TicketRouting, TicketRoutingInput{Ticket: Ticket{Subject: "hi", Channel: "email"}})

	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(err, &appErr))
	s.Equal(ErrInvalidTicket, appErr.Type())
	s.Equal("the ticket has no body, customer; give it subject, body, customer and channel", appErr.Message())
}

func TestRouteFor(t *testing.T) {
	cases := []struct {
		category, priority string
		want               Route
	}{
		{"billing", "high", Route{"billing", 240}},
		{"technical", "normal", Route{"tech-support", 1440}},
		{"technical", "urgent", Route{"incident-response", 60}},
		{"returns", "low", Route{"logistics", 4320}},
		{"feedback", "low", Route{"customer-success", 4320}},
		{"other", "urgent", Route{TriageQueue, 60}},
		{"unknown", "whatever", Route{TriageQueue, 1440}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, RouteFor(c.category, c.priority), "%s/%s", c.category, c.priority)
	}
	for _, cat := range TicketCategories {
		_, ok := queueByCategory[cat]
		assert.True(t, ok, "category %s has a queue", cat)
	}
}

func TestTicketValidate(t *testing.T) {
	require.NoError(t, testTicket.Validate())
	bad := testTicket
	bad.Channel = "fax"
	assert.EqualError(t, bad.Validate(), `the ticket's channel "fax" is not one of email, chat, phone, web`)
}

func TestClassificationSchemaAcceptsOnlyTheFixedLists(t *testing.T) {
	require.NoError(t, schema.Validate(ticketClassificationSchema,
		[]byte(`{"category":"billing","priority":"low","sentiment":"neutral","language":"en","summary":"x"}`)))
	assert.Error(t, schema.Validate(ticketClassificationSchema,
		[]byte(`{"category":"spam","priority":"low","sentiment":"neutral","language":"en","summary":"x"}`)))
}

// TestInputsThatCannotFitTheModelAreRefused: an invoice or a ticket whose
// text cannot fit the model's context with its instructions and answer is
// refused before any run starts, from a token estimate.
func TestInputsThatCannotFitTheModelAreRefused(t *testing.T) {
	err := InvoiceInput{Document: "INVOICE " + strings.Repeat("line item 12.00 EUR\n", 45000)}.Check()
	assert.EqualError(t, err, "the invoice is about 225003 tokens; with the instructions and room for the answer it needs 226227 of the model's "+
		"4096-token context; shorten it or split it into parts")
	body := strings.Repeat("my parcel is late ", 900)
	err = TicketRoutingInput{Ticket: Ticket{Subject: "Late", Body: body, Customer: "Camille", Channel: "web"}}.Check()
	assert.ErrorContains(t, err, "the ticket is about 4")
	assert.ErrorContains(t, err, "of the model's 4096-token context; shorten it or split it into parts")
	long := TicketRoutingInput{Ticket: Ticket{Subject: strings.Repeat("s", 201), Body: "b", Customer: "c", Channel: "web"}}.Check()
	assert.EqualError(t, long, "the ticket's subject is 201 characters; keep it to 200")
}
