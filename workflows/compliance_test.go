package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tandemhq/tandem/activities"
)

// A Monday in the test period.
var monday = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

func sampleRecords() activities.ComplianceRecords {
	at := func(day, hour, minute int) time.Time {
		return monday.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	return activities.ComplianceRecords{
		Expenses: []activities.Expense{
			{ID: "X-1", RequesterID: "E-1", ApproverID: "E-9", Merchant: "Rail", Amount: decimal.NewFromInt(90), Currency: "EUR", ApprovedAt: at(0, 10, 0)},
			{ID: "X-2", RequesterID: "E-9", ApproverID: "E-9", Merchant: "Steakhouse", Amount: decimal.NewFromInt(780), Currency: "EUR", ApprovedAt: at(1, 14, 0)},
			{ID: "X-3", RequesterID: "E-3", ApproverID: "E-9", Merchant: "Apple", Amount: decimal.NewFromInt(6400), Currency: "EUR", ApprovedAt: at(2, 15, 0)},
			{ID: "X-4", RequesterID: "E-2", ApproverID: "E-9", Merchant: "Conrad", Amount: decimal.NewFromInt(995), Currency: "EUR", ApprovedAt: at(2, 10, 0)},
			{ID: "X-5", RequesterID: "E-2", ApproverID: "E-9", Merchant: "Conrad", Amount: decimal.NewFromInt(990), Currency: "EUR", ApprovedAt: at(2, 10, 20)},
			{ID: "X-6", RequesterID: "E-4", ApproverID: "E-8", Merchant: "Lufthansa", Amount: decimal.NewFromInt(560), Currency: "EUR", ApprovedAt: at(3, 23, 30)},
			{ID: "X-7", RequesterID: "E-1", ApproverID: "E-9", Merchant: "Uber", Amount: decimal.NewFromInt(23), Currency: "EUR", ApprovedAt: at(5, 12, 0)},
			{ID: "X-8", RequesterID: "E-5", ApproverID: "E-9", Merchant: "Rail", Amount: decimal.NewFromInt(45), Currency: "EUR", ApprovedAt: at(4, 9, 0)},
		},
		Access: []activities.Access{
			{ID: "A-1", EmployeeID: "E-1", Role: "engineer", Resource: "ci", Action: "write", AccessedAt: at(0, 9, 0), Allowed: true},
			{ID: "A-2", EmployeeID: "E-2", Role: "engineer", Resource: "payments", Action: "read", AccessedAt: at(1, 13, 0)},
		},
	}
}

func TestComplianceRules(t *testing.T) {
	hits := applyComplianceRules(sampleRecords(), DefaultComplianceRules)
	got := map[string][]string{}
	for _, h := range hits {
		got[h.Rule] = append(got[h.Rule], h.RecordID)
	}
	assert.Equal(t, map[string][]string{
		RuleAmount:       {"X-3"},
		RuleSelfApproval: {"X-2"},
		RuleOffHours:     {"X-6", "X-7"},
		RuleSplit:        {"X-4", "X-5"},
		RuleAccess:       {"A-2"},
	}, got)
	for _, h := range hits {
		if h.RecordID == "X-7" {
			assert.Equal(t, "approved Saturday 2026-11-21 12:00 UTC", h.Detail)
		}
	}
}

func TestSampleUnflaggedIsDeterministicAndSpread(t *testing.T) {
	ids := []string{"X-9", "X-1", "X-2", "X-3", "X-4", "X-5", "X-6"}
	flagged := map[string]bool{"X-2": true}
	assert.Equal(t, []string{"X-1", "X-4", "X-6"}, sampleUnflagged(ids, flagged, 3))
	assert.Equal(t, sampleUnflagged(ids, flagged, 3), sampleUnflagged(ids, flagged, 3))
	assert.Len(t, sampleUnflagged(ids, flagged, 50), 6)
	assert.Empty(t, sampleUnflagged(ids, flagged, 0))
}

type complianceSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	model   *activities.Model
	store   *activities.Store
	reports *activities.Reports
}

func TestComplianceMonitoring(t *testing.T) { suite.Run(t, new(complianceSuite)) }

func (s *complianceSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(monday.AddDate(0, 0, 7))
	s.env.RegisterActivity(s.model)
	s.env.RegisterActivity(s.store)
	s.env.RegisterActivity(testSettings(nil))
	s.env.RegisterActivity(s.reports)
}

func (s *complianceSuite) TestReviewsFlaggedAndSampledInBoundedBatchesAndReports() {
	var period activities.Period
	s.env.OnActivity(s.store.LoadComplianceRecords, mock.Anything, mock.Anything).Return(
		func(_ context.Context, p activities.Period) (activities.ComplianceRecords, error) {
			period = p
			return sampleRecords(), nil
		}).Once()
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	var reviewed []string
	s.env.OnActivity(s.model.Chat, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.ChatRequest) (activities.ChatResult, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			time.Sleep(20 * time.Millisecond)
			var batch reviewBatch
			for _, id := range batchIDs(req) {
				mu.Lock()
				reviewed = append(reviewed, id)
				mu.Unlock()
				batch.Findings = append(batch.Findings, struct {
					RecordID string `json:"recordId"`
					Concern  bool   `json:"concern"`
					Reason   string `json:"reason"`
				}{id, id == "X-2", "checked " + id})
			}
			return activities.ChatResult{Answer: mustJSON(batch), Call: activities.ModelCall{Model: "m", Digest: "sha256:d"}}, nil
		})
	var written activities.ComplianceReport
	s.env.OnActivity(s.reports.WriteComplianceReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.ComplianceReport) (activities.ReportLocation, error) {
			written = r
			return activities.ReportLocation{Markdown: "reports/x.md", JSON: "reports/x.json"}, nil
		}).Once()

	s.env.ExecuteWorkflow(ComplianceMonitoring, ComplianceInput{SampleSize: 2, BatchSize: 3, Parallel: 2, Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	s.Require().NoError(s.env.GetWorkflowError())
	var res ComplianceResult

	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal(monday, period.From, "the default period is the seven days before the run")
	s.Equal(monday.AddDate(0, 0, 7), period.To)
	s.Equal(10, written.RecordsChecked)
	s.Len(written.Hits, 7)
	s.Equal(map[string]int{RuleAmount: 1, RuleSelfApproval: 1, RuleOffHours: 2, RuleSplit: 2, RuleAccess: 1}, written.HitsPerRule)
	s.ElementsMatch([]string{"X-2", "X-3", "X-6", "X-7", "X-4", "X-5", "A-2", "A-1", "X-1"}, reviewed, "7 flagged and 2 sampled")
	s.LessOrEqual(maxInFlight.Load(), int32(2), "at most Parallel model calls at once")
	s.Len(written.Findings, 9)
	sampled := 0
	for _, f := range written.Findings {
		if f.Sampled {
			sampled++
		}
	}
	s.Equal(2, sampled)
	s.Equal("reports/x.md", res.Location.Markdown)
	s.Len(res.ModelCalls, 3, "9 records in batches of 3")
}

func (s *complianceSuite) TestABatchTheModelCannotAnswerIsAGapNotAFailure() {
	s.env.OnActivity(s.store.LoadComplianceRecords, mock.Anything, mock.Anything).Return(sampleRecords(), nil).Once()
	s.env.OnActivity(s.model.Chat, mock.Anything, mock.Anything).Return(activities.ChatResult{},
		temporal.NewNonRetryableApplicationError("no usable answer", activities.ErrModelInvalidAnswer, nil))
	var written activities.ComplianceReport
	s.env.OnActivity(s.reports.WriteComplianceReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.ComplianceReport) (activities.ReportLocation, error) {
			written = r
			return activities.ReportLocation{}, nil
		}).Once()
	s.env.ExecuteWorkflow(ComplianceMonitoring, ComplianceInput{BatchSize: 20, Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Require().Len(written.ReviewGaps, 1)
	s.Contains(written.ReviewGaps[0], "no usable answer")
	s.Len(written.Hits, 7, "the rules still report")
}

func (s *complianceSuite) TestAPeriodWithoutRecordsFailsWithASentence() {
	s.env.OnActivity(s.store.LoadComplianceRecords, mock.Anything, mock.Anything).Return(activities.ComplianceRecords{}, nil).Once()
	s.env.ExecuteWorkflow(ComplianceMonitoring, ComplianceInput{From: monday, To: monday.AddDate(0, 0, 1)})
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr))
	s.Equal(ErrNoRecords, appErr.Type())
	s.Equal("there are no expense or access records from 2026-11-16 00:00 to 2026-11-17 00:00 UTC; check the period", appErr.Message())
}

func (s *complianceSuite) TestAnEmptyPeriodIsRefused() {
	s.env.ExecuteWorkflow(ComplianceMonitoring, ComplianceInput{From: monday, To: monday})
	var appErr *temporal.ApplicationError
	s.Require().True(errors.As(s.env.GetWorkflowError(), &appErr))
	s.Contains(appErr.Message(), "is empty; give a from time before the to time")
}

// batchIDs reads the record ids a review request's schema allows.
func batchIDs(req activities.ChatRequest) []string {
	var sch struct {
		Properties struct {
			Findings struct {
				Items struct {
					Properties struct {
						RecordID struct {
							Enum []string `json:"enum"`
						} `json:"recordId"`
					} `json:"properties"`
				} `json:"items"`
			} `json:"findings"`
		} `json:"properties"`
	}
	_ = jsonUnmarshal(req.Schema, &sch)
	return sch.Properties.Findings.Items.Properties.RecordID.Enum
}

func TestReviewSchemaNamesOnlyTheBatch(t *testing.T) {
	ids := batchIDs(reviewRequest(ModelSettings{Model: "m"}, []string{"X-1", "A-2"}, map[string]string{}))
	require.Equal(t, []string{"X-1", "A-2"}, ids)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
