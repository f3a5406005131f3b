package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tandemhq/tandem/activities"
)

type leaveSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env      *testsuite.TestWorkflowEnvironment
	model    *activities.Model
	store    *activities.Store
	recorded []activities.LeaveOutcome
}

func TestLeaveApproval(t *testing.T) { suite.Run(t, new(leaveSuite)) }

// The test clock starts on a fixed Monday.
var leaveToday = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func (s *leaveSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(leaveToday)
	s.env.RegisterActivity(s.model)
	s.env.RegisterActivity(s.store)
	s.env.RegisterActivity(testSettings(nil))
	s.recorded = nil
	s.env.OnActivity(s.store.Notify, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(s.store.RecordLeave, mock.Anything, mock.Anything).Return(
		func(_ context.Context, o activities.LeaveOutcome) (activities.LeaveRecord, error) {
			s.recorded = append(s.recorded, o)
			return activities.LeaveRecord{Notified: o.IdempotencyKey + "/notification"}, nil
		}).Maybe()
}

func lenaFacts() activities.LeaveFacts {
	return activities.LeaveFacts{
		Employee:        activities.Employee{ID: "E-101", Name: "Lena Fischer", Team: "engineering", ManagerID: "E-100"},
		SecondManagerID: "E-CEO", Balance: decimal.NewFromInt(18),
	}
}

func (s *leaveSuite) expectFacts(f activities.LeaveFacts) {
	s.env.OnActivity(s.store.LeaveFacts, mock.Anything, mock.Anything).Return(f, nil).Once()
}

func (s *leaveSuite) expectNote() {
	s.env.OnActivity(s.model.Chat, mock.Anything, mock.Anything).Return(activities.ChatResult{
		Answer: mustJSON(LeaveNote{Summary: "Five days in late December", Risks: []string{"release week"}, Conflicts: []string{}}),
		Call:   activities.ModelCall{Purpose: "leave note", Model: "m"}}, nil).Once()
}

// request is five working days a month from the test's today.
func request() LeaveRequest {
	return LeaveRequest{EmployeeID: "E-101", Type: "annual", Start: "2026-12-21", End: "2026-12-25", Reason: "holidays"}
}

func (s *leaveSuite) run(req LeaveRequest) LeaveResult {
	s.env.ExecuteWorkflow(LeaveApproval, LeaveInput{Request: req, Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res LeaveResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

func (s *leaveSuite) TestManagerApprovesAndTheApprovalIsRecordedOnce() {
	s.expectFacts(lenaFacts())
	s.expectNote()
	decideAfter(s.env, time.Hour, Decision{Approve: true, By: "E-100", Reason: "enjoy"})
	res := s.run(request())

	s.True(res.Approved)
	s.Equal(5, res.Days)
	s.Equal("Five days in late December", res.Note.Summary)
	for _, c := range res.Checks {
		s.True(c.Passed, "%s: %s", c.Name, c.Detail)
	}
	s.Require().Len(s.recorded, 1)
	s.Equal(activities.LeaveOutcome{IdempotencyKey: "default-test-workflow-id", EmployeeID: "E-101", Type: "annual",
		Start: "2026-12-21", End: "2026-12-25", Days: 5, Approved: true, DecidedBy: "E-100", Comment: "enjoy",
		WorkflowID: "default-test-workflow-id"}, s.recorded[0])
}

func (s *leaveSuite) TestManagerRejectsWithAComment() {
	s.expectFacts(lenaFacts())
	s.expectNote()
	decideAfter(s.env, time.Hour, Decision{Approve: false, By: "E-100", Reason: "release week"})
	res := s.run(request())

	s.False(res.Approved)
	s.Require().Len(s.recorded, 1)
	s.False(s.recorded[0].Approved, "only the notification is written")
	s.Equal("release week", s.recorded[0].Comment)
}

func (s *leaveSuite) TestShortBalanceIsRejectedWithoutAskingOrCallingTheModel() {
	f := lenaFacts()
	f.Balance = decimal.NewFromInt(2)
	s.expectFacts(f)
	res := s.run(request())

	s.False(res.Approved)
	s.Equal(Decision{By: "policy", Reason: "Lena Fischer asks for 5 days of annual leave but has 2 left"}, res.Decision)
	s.Nil(res.Note)
	s.Empty(res.ModelCalls)
	s.Len(s.recorded, 1)
}

func (s *leaveSuite) TestPolicyFindingsReachTheManager() {
	f := lenaFacts()
	f.Blackouts = []activities.Blackout{{Start: "2026-12-20", End: "2026-12-31", Reason: "year-end freeze"}}
	f.TeamLeave = []activities.TeamLeave{{EmployeeName: "Aisha Khan", Start: "2026-12-22", End: "2026-12-23"}}
	s.expectFacts(f)
	s.expectNote()
	asked := statusAfter(s.env, time.Minute)
	decideAfter(s.env, time.Hour, Decision{Approve: true, By: "E-100"})
	req := request()
	req.Start, req.End = "2026-11-30", "2026-12-04" // a week's notice
	res := s.run(req)

	checks := map[string]Check{}
	for _, c := range res.Checks {
		checks[c.Name] = c
	}
	s.Equal("7 days of notice, policy asks for 14", checks["notice"].Detail)
	s.Equal("overlaps the blackout 2026-12-20 to 2026-12-31 (year-end freeze)", checks["blackout"].Detail)
	s.Equal("overlaps approved leave of Aisha Khan (2026-12-22 to 2026-12-23)", checks["team calendar"].Detail)
	pending := asked.Pending
	s.Require().NotNil(pending)
	s.Equal([]string{"E-100"}, pending.Approvers)
	s.Contains(pending.Question, `Check "notice": 7 days of notice`)
	s.True(res.Approved, "soft findings inform the manager, who may still approve")
}

func (s *leaveSuite) TestEscalatesToTheManagersManager() {
	s.expectFacts(lenaFacts())
	s.expectNote()
	late := decideAfter(s.env, 49*time.Hour, Decision{Approve: true, By: "E-100"})
	decideAfter(s.env, 50*time.Hour, Decision{Approve: true, By: "E-CEO"})
	res := s.run(request())
	s.EqualError(*late, "E-100 may not decide this; one of E-CEO may")
	s.Equal("E-CEO", res.Decision.By)
}

func (s *leaveSuite) TestDeadlineFollowsThePolicy() {
	s.expectFacts(lenaFacts())
	s.expectNote()
	s.env.ExecuteWorkflow(LeaveApproval, LeaveInput{Request: request(), Policy: LeavePolicy{Deadline: 72 * time.Hour}})
	var res LeaveResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.False(res.Approved)
	s.Equal(Decision{Approve: false, By: "deadline", Reason: "no decision within 72h0m0s"}, res.Decision)
}

// TestARunCannotLoosenHRsPolicy: approval on deadline and shorter notice
// are HR's to set, not a caller's.
func (s *leaveSuite) TestARunCannotLoosenHRsPolicy() {
	for policy, want := range map[LeavePolicy]string{
		{OnDeadline: "approve"}: "a run cannot approve itself when its deadline passes; leave onDeadline out, or set it to reject",
		{NoticeDays: 1}:         "noticeDays 1 is under HR's 14; a run may ask for more notice, never less",
	} {
		s.SetupTest()
		s.env.ExecuteWorkflow(LeaveApproval, LeaveInput{Request: request(), Policy: policy})
		var appErr *temporal.ApplicationError
		s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr))
		s.Equal(want, appErr.Message())
	}
}

func (s *leaveSuite) TestBadRequestsFailWithOneSentence() {
	cases := map[string]struct {
		edit func(*LeaveRequest)
		want string
	}{
		"dates in the wrong order": {func(r *LeaveRequest) { r.Start, r.End = r.End, r.Start },
			"the leave ends (2026-12-21) before it starts (2026-12-25); swap the dates"},
		"in the past": {func(r *LeaveRequest) { r.Start, r.End = "2026-11-02", "2026-11-03" },
			"the leave starts in the past (2026-11-02); only sick leave may be recorded after the fact"},
		"not a date":   {func(r *LeaveRequest) { r.Start = "next monday" }, `the start date "next monday" is not a date like 2026-12-01`},
		"unknown type": {func(r *LeaveRequest) { r.Type = "sabbatical" }, `leave type "sabbatical" is not one of annual, sick, unpaid`},
		"weekend only": {func(r *LeaveRequest) { r.Start, r.End = "2026-12-26", "2026-12-27" }, "the leave from 2026-12-26 to 2026-12-27 covers no working day; check the dates"},
		"no employee":  {func(r *LeaveRequest) { r.EmployeeID = "" }, "the leave request names no employee; set employeeId"},
	}
	for name, c := range cases {
		s.Run(name, func() {
			s.SetupTest()
			req := request()
			c.edit(&req)
			s.env.ExecuteWorkflow(LeaveApproval, LeaveInput{Request: req})
			var appErr *temporal.ApplicationError
			s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr))
			s.Equal(ErrInvalidLeave, appErr.Type())
			s.Equal(c.want, appErr.Message())
			s.Empty(s.recorded, "nothing is written")
		})
	}
}

func (s *leaveSuite) TestUnknownEmployeeFailsWithTheStoresSentence() {
	s.env.OnActivity(s.store.LeaveFacts, mock.Anything, mock.Anything).Return(activities.LeaveFacts{},
		temporal.NewNonRetryableApplicationError("employee E-999 is not in the HR store; check the employee id", activities.ErrNotFound, nil)).Once()
	req := request()
	req.EmployeeID = "E-999"
	s.env.ExecuteWorkflow(LeaveApproval, LeaveInput{Request: req})
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr))
	s.Equal("employee E-999 is not in the HR store; check the employee id", appErr.Message())
	s.Empty(s.recorded)
}

func TestWorkingDays(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	assert.Equal(t, 5, workingDays(day("2026-12-21"), day("2026-12-25")))
	assert.Equal(t, 6, workingDays(day("2026-12-21"), day("2026-12-28")))
	assert.Equal(t, 0, workingDays(day("2026-12-26"), day("2026-12-27")))
}
