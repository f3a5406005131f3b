package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/schema"
)

// LeaveTypes are the kinds of leave an employee may request.
var LeaveTypes = []string{"annual", "sick", "unpaid"}

// LeaveRequest is an employee's request for leave.
type LeaveRequest struct {
	EmployeeID string `json:"employeeId"`
	Type       string `json:"type"`  // annual, sick or unpaid
	Start      string `json:"start"` // first day, YYYY-MM-DD
	End        string `json:"end"`   // last day, YYYY-MM-DD
	Reason     string `json:"reason"`
}

// LeaveInput starts a leave approval.
type LeaveInput struct {
	Request LeaveRequest  `json:"request"`
	Policy  LeavePolicy   `json:"policy,omitzero"`
	Model   ModelSettings `json:"model,omitzero"`
}

// LeavePolicy is HR's policy for leave requests.
type LeavePolicy struct {
	NoticeDays    int           `json:"noticeDays,omitempty"`    // days of notice for annual and unpaid leave; default 14
	RemindEvery   time.Duration `json:"remindEvery,omitempty"`   // default 24h
	EscalateAfter time.Duration `json:"escalateAfter,omitempty"` // to the manager's manager; default 48h
	Deadline      time.Duration `json:"deadline,omitempty"`      // default 120h
	OnDeadline    string        `json:"onDeadline,omitempty"`    // "reject" (default) or "approve"
}

// LeaveNote is the model's decision-support note for the manager.
type LeaveNote struct {
	Summary   string   `json:"summary"`
	Risks     []string `json:"risks"`
	Conflicts []string `json:"conflicts"`
}

var leaveNoteSchema = schema.Object(
	schema.Prop("summary", schema.String("the request in one or two sentences", 300)),
	schema.Prop("risks", schema.Array("risks for the team if approved", schema.String("one risk", 160), 4)),
	schema.Prop("conflicts", schema.Array("conflicts found in the facts", schema.String("one conflict", 160), 4)),
)

// LeaveResult is the outcome of a leave approval.
type LeaveResult struct {
	Employee   activities.Employee    `json:"employee"`
	Days       int                    `json:"days"` // working days requested
	Checks     []Check                `json:"checks"`
	Note       *LeaveNote             `json:"note,omitempty"`
	Approved   bool                   `json:"approved"`
	Decision   Decision               `json:"decision"`
	Record     activities.LeaveRecord `json:"record"`
	ModelCalls []activities.ModelCall `json:"modelCalls"`
}

// ErrInvalidLeave is the application error type of a request that cannot be decided.
const ErrInvalidLeave = "InvalidLeaveRequest"

// LeaveApproval checks a leave request against HR policy, has the model
// write a note for the manager, lets the manager decide (escalating to their
// manager when they do not), and records the outcome exactly once.
func LeaveApproval(ctx workflow.Context, in LeaveInput) (LeaveResult, error) {
	ctx, d, err := beginRun(ctx, "leave")
	if err != nil {
		return LeaveResult{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, EmployeeKey.ValueSet(in.Request.EmployeeID))
	if err := in.Policy.Check(); err != nil {
		return LeaveResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidLeave, nil)
	}
	policy := in.Policy.withDefaults()
	req := in.Request
	start, end, err := req.Dates(workflow.Now(ctx))
	if err != nil {
		return LeaveResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidLeave, nil)
	}
	var result LeaveResult
	if result.Days = workingDays(start, end); result.Days == 0 {
		return result, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the leave from %s to %s covers no working day; check the dates", req.Start, req.End), ErrInvalidLeave, nil)
	}

	d.step(ctx, "checking", "Checking balance, notice, blackouts and team calendar")
	var facts activities.LeaveFacts
	var store *activities.Store
	factsReq := activities.LeaveFactsRequest{EmployeeID: req.EmployeeID, Type: req.Type, Start: req.Start, End: req.End}
	if err := workflow.ExecuteActivity(withStore(ctx, "look up employee, balance, blackouts, team leave"), store.LeaveFacts, factsReq).Get(ctx, &facts); err != nil {
		return result, err
	}
	result.Employee = facts.Employee
	result.Checks = leaveChecks(req, facts, result.Days, start, workflow.Now(ctx), policy)

	hard, failed := firstFailures(result.Checks)
	if hard != nil {
		result.Decision = Decision{By: "policy", Reason: hard.Detail}
	} else {
		model, err := resolveModel(ctx, in.Model)
		if err != nil {
			return result, err
		}
		d.step(ctx, "noting", "Writing a decision note for "+facts.Employee.ManagerID)
		note, call, err := writeLeaveNote(ctx, model, req, facts, result)
		if err != nil {
			return result, err
		}
		result.Note = note
		if call != nil {
			result.ModelCalls = append(result.ModelCalls, *call)
			usedModel(ctx, *call)
		}
		result.Decision = d.ask(ctx, Question{Text: leaveQuestion(req, facts, result.Days, failed), Checks: result.Checks}, DecisionPolicy{
			Approvers:     []string{facts.Employee.ManagerID},
			EscalateTo:    nonEmpty(facts.SecondManagerID),
			RemindEvery:   policy.RemindEvery,
			EscalateAfter: policy.EscalateAfter,
			Deadline:      policy.Deadline,
			OnDeadline:    policy.OnDeadline,
		})
	}
	result.Approved = result.Decision.Approve

	d.step(ctx, "recording", "Recording the decision")
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	outcome := activities.LeaveOutcome{
		IdempotencyKey: id, EmployeeID: req.EmployeeID, Type: req.Type, Start: req.Start, End: req.End,
		Days: result.Days, Approved: result.Approved, DecidedBy: result.Decision.By, Comment: result.Decision.Reason,
		WorkflowID: id,
	}
	verb := "rejection"
	if result.Approved {
		verb = "approval"
	}
	if err := workflow.ExecuteActivity(withStore(ctx, "record the "+verb+" and notify "+facts.Employee.Name),
		store.RecordLeave, outcome).Get(ctx, &result.Record); err != nil {
		return result, err
	}
	d.step(ctx, "recorded", fmt.Sprintf("Leave %s by %s", map[bool]string{true: "approved", false: "rejected"}[result.Approved], result.Decision.By))
	return result, nil
}

// defaultNoticeDays is HR's notice for annual and unpaid leave.
const defaultNoticeDays = 14

func (p LeavePolicy) withDefaults() LeavePolicy {
	if p.NoticeDays == 0 {
		p.NoticeDays = defaultNoticeDays
	}
	if p.RemindEvery == 0 {
		p.RemindEvery = 24 * time.Hour
	}
	if p.EscalateAfter == 0 {
		p.EscalateAfter = 48 * time.Hour
	}
	if p.Deadline == 0 {
		p.Deadline = 120 * time.Hour
	}
	if p.OnDeadline == "" {
		p.OnDeadline = "reject"
	}
	return p
}

// Dates parses and checks the request against today and returns its first
// and last day; the error says, in one sentence, what is wrong.
func (r LeaveRequest) Dates(now time.Time) (time.Time, time.Time, error) {
	var zero time.Time
	if strings.TrimSpace(r.EmployeeID) == "" {
		return zero, zero, fmt.Errorf("the leave request names no employee; set employeeId")
	}
	if !slices.Contains(LeaveTypes, r.Type) {
		return zero, zero, fmt.Errorf("leave type %q is not one of %s", r.Type, strings.Join(LeaveTypes, ", "))
	}
	start, err := time.Parse(time.DateOnly, r.Start)
	if err != nil {
		return zero, zero, fmt.Errorf("the start date %q is not a date like 2026-12-01", r.Start)
	}
	end, err := time.Parse(time.DateOnly, r.End)
	if err != nil {
		return zero, zero, fmt.Errorf("the end date %q is not a date like 2026-12-01", r.End)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	switch {
	case end.Before(start):
		return zero, zero, fmt.Errorf("the leave ends (%s) before it starts (%s); swap the dates", r.End, r.Start)
	case start.Before(today) && r.Type != "sick":
		return zero, zero, fmt.Errorf("the leave starts in the past (%s); only sick leave may be recorded after the fact", r.Start)
	}
	return start, end, nil
}

// workingDays counts Monday to Friday from start to end, both included.
func workingDays(start, end time.Time) int {
	n := 0
	for day := start; !day.After(end); day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// leaveChecks applies HR policy to a request; only a short balance is hard.
func leaveChecks(req LeaveRequest, facts activities.LeaveFacts, days int, start, now time.Time, p LeavePolicy) []Check {
	balance := Check{Name: "balance", Hard: true}
	switch {
	case req.Type == "unpaid":
		balance.Passed, balance.Detail = true, "unpaid leave uses no balance"
	case decimal.NewFromInt(int64(days)).GreaterThan(facts.Balance):
		balance.Detail = fmt.Sprintf("%s asks for %d days of %s leave but has %s left", facts.Employee.Name, days, req.Type, facts.Balance)
	default:
		balance.Passed, balance.Detail = true, fmt.Sprintf("%d of %s days of %s leave", days, facts.Balance, req.Type)
	}

	notice := Check{Name: "notice"}
	given := int(start.Sub(now.UTC().Truncate(24*time.Hour)).Hours() / 24)
	switch {
	case req.Type == "sick":
		notice.Passed, notice.Detail = true, "sick leave needs no notice"
	case given < p.NoticeDays:
		notice.Detail = fmt.Sprintf("%d days of notice, policy asks for %d", given, p.NoticeDays)
	default:
		notice.Passed, notice.Detail = true, fmt.Sprintf("%d days of notice", given)
	}

	blackout := Check{Name: "blackout", Passed: len(facts.Blackouts) == 0, Detail: "no blackout period"}
	if !blackout.Passed {
		b := facts.Blackouts[0]
		blackout.Detail = fmt.Sprintf("overlaps the blackout %s to %s (%s)", b.Start, b.End, b.Reason)
	}

	overlap := Check{Name: "team calendar", Passed: len(facts.TeamLeave) == 0, Detail: "no one else in the team is away"}
	if !overlap.Passed {
		var who []string
		for _, l := range facts.TeamLeave {
			who = append(who, fmt.Sprintf("%s (%s to %s)", l.EmployeeName, l.Start, l.End))
		}
		overlap.Detail = "overlaps approved leave of " + strings.Join(who, ", ")
	}
	return []Check{balance, notice, blackout, overlap}
}

func writeLeaveNote(ctx workflow.Context, model ModelSettings, req LeaveRequest, facts activities.LeaveFacts, res LeaveResult) (*LeaveNote, *activities.ModelCall, error) {
	var checks strings.Builder
	for _, c := range res.Checks {
		checks.WriteString(fmt.Sprintf("- %s: %s (%s)\n", c.Name, map[bool]string{true: "ok", false: "FAILED"}[c.Passed], c.Detail))
	}
	chat := activities.ChatRequest{
		Purpose: "leave note",
		Model:   model.Model,
		Messages: []activities.Message{
			{Role: "system", Content: "You help a manager decide a leave request. Using only the facts given, write a short summary, " +
				"the risks for the team, and the conflicts found. Answer with JSON only. Do not decide."},
			{Role: "user", Content: fmt.Sprintf("Employee: %s (%s team)\nLeave: %s, %s to %s, %d working days\nReason: %s\n\nPolicy checks:\n%s",
				facts.Employee.Name, facts.Employee.Team, req.Type, req.Start, req.End, res.Days, req.Reason, checks.String())},
		},
		Schema:  leaveNoteSchema,
		Options: activities.ModelOptions{MaxTokens: 400},
	}
	var out activities.ChatResult
	err := workflow.ExecuteActivity(withModel(ctx, model, "write a decision note for the manager"), new(activities.Model).Chat, chat).Get(ctx, &out)
	if isErrorType(err, activities.ErrModelInvalidAnswer) {
		return nil, nil, nil // the manager decides from the checks alone
	}
	if err != nil {
		return nil, nil, err
	}
	note, err := decodeAnswer[LeaveNote](out)
	if err != nil {
		return nil, nil, err
	}
	return &note, &out.Call, nil
}

func leaveQuestion(req LeaveRequest, facts activities.LeaveFacts, days int, failed *Check) string {
	q := fmt.Sprintf("Approve %d days of %s leave for %s, %s to %s?", days, req.Type, facts.Employee.Name, req.Start, req.End)
	if failed != nil {
		q += fmt.Sprintf(" Check %q: %s", failed.Name, failed.Detail)
	}
	return q
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
