package workflows

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/schema"
)

// ComplianceInput starts a compliance run. An empty period is the seven days
// before the run starts, which is what the schedule uses.
type ComplianceInput struct {
	From       time.Time        `json:"from,omitzero"`
	To         time.Time        `json:"to,omitzero"`
	Rules      *ComplianceRules `json:"rules,omitempty"`
	SampleSize int              `json:"sampleSize,omitempty"` // unflagged records the model also reviews; default 3
	BatchSize  int              `json:"batchSize,omitempty"`  // records per model call; default 4
	Parallel   int              `json:"parallel,omitempty"`   // model calls at once; default 2
	Model      ModelSettings    `json:"model,omitzero"`
}

// ComplianceResult says where the report is and what it found.
type ComplianceResult struct {
	Report     activities.ComplianceReport `json:"report"`
	Location   activities.ReportLocation   `json:"location"`
	ModelCalls []activities.ModelCall      `json:"modelCalls"`
}

// ErrNoRecords is the application error type of a period without records.
const ErrNoRecords = "NoRecords"

// reviewBatch is the model's answer for one batch of records.
type reviewBatch struct {
	Findings []struct {
		RecordID string `json:"recordId"`
		Concern  bool   `json:"concern"`
		Reason   string `json:"reason"`
	} `json:"findings"`
}

// ComplianceMonitoring loads a period's expense and access records, applies
// fixed rules, has the model review the flagged records and a sample of the
// rest in bounded parallel batches, and writes a report.
func ComplianceMonitoring(ctx workflow.Context, in ComplianceInput) (ComplianceResult, error) {
	ctx, d, err := beginRun(ctx, "compliance")
	if err != nil {
		return ComplianceResult{}, err
	}
	in = in.withDefaults(workflow.GetInfo(ctx).WorkflowStartTime)
	period := activities.Period{From: in.From.UTC(), To: in.To.UTC()}
	if !period.From.Before(period.To) {
		return ComplianceResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the period %s is empty; give a from time before the to time", period), ErrNoRecords, nil)
	}

	d.step(ctx, "loading", "Loading the records of "+period.String())
	var store *activities.Store
	var recs activities.ComplianceRecords
	if err := workflow.ExecuteActivity(withStore(ctx, "load expenses and access records of "+period.String()),
		store.LoadComplianceRecords, period).Get(ctx, &recs); err != nil {
		return ComplianceResult{}, err
	}
	if len(recs.Expenses)+len(recs.Access) == 0 {
		return ComplianceResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("there are no expense or access records from %s; check the period", period), ErrNoRecords, nil)
	}

	d.step(ctx, "applying-rules", fmt.Sprintf("Applying the rules to %d records", len(recs.Expenses)+len(recs.Access)))
	hits := applyComplianceRules(recs, *in.Rules)

	model, err := resolveModel(ctx, in.Model)
	if err != nil {
		return ComplianceResult{}, err
	}
	flagged, sampled := reviewSelection(recs, hits, in.SampleSize)
	d.step(ctx, "reviewing", fmt.Sprintf("The model reviews %d flagged and %d sampled records", len(flagged), len(sampled)))
	findings, gaps, calls, err := reviewRecords(ctx, model, recs, hits, flagged, sampled, in.BatchSize, in.Parallel)
	if err != nil {
		return ComplianceResult{}, err
	}

	report := activities.ComplianceReport{
		ID: workflow.GetInfo(ctx).WorkflowExecution.ID, Period: period, GeneratedAt: workflow.Now(ctx).UTC(),
		Model: model.Model, Rules: in.Rules, RecordsChecked: len(recs.Expenses) + len(recs.Access),
		Hits: hits, HitsPerRule: countPerRule(hits), Findings: findings, ReviewGaps: gaps,
	}
	if len(calls) > 0 {
		report.ModelDigest = calls[0].Digest
	}
	d.step(ctx, "reporting", "Writing the report")
	var reports *activities.Reports
	var loc activities.ReportLocation
	if err := workflow.ExecuteActivity(withStore(ctx, fmt.Sprintf("write the report: %d rule hits, %d findings", len(hits), len(findings))),
		reports.WriteComplianceReport, report).Get(ctx, &loc); err != nil {
		return ComplianceResult{}, err
	}
	d.step(ctx, "reported", fmt.Sprintf("%d rule hits, %d model findings: %s", len(hits), len(findings), loc.Markdown))
	for _, call := range calls {
		usedModel(ctx, call)
	}
	return ComplianceResult{Report: report, Location: loc, ModelCalls: calls}, nil
}

func (in ComplianceInput) withDefaults(started time.Time) ComplianceInput {
	if in.To.IsZero() {
		in.To = started.UTC()
	}
	if in.From.IsZero() {
		in.From = in.To.Add(-7 * 24 * time.Hour)
	}
	if in.Rules == nil {
		r := DefaultComplianceRules
		in.Rules = &r
	}
	if in.SampleSize == 0 {
		in.SampleSize = 3
	}
	if in.BatchSize <= 0 {
		in.BatchSize = 4
	}
	if in.Parallel <= 0 {
		in.Parallel = 2
	}
	return in
}

// reviewSelection returns the flagged record ids in record order, and the
// unflagged sample.
func reviewSelection(recs activities.ComplianceRecords, hits []activities.RuleHit, sampleSize int) (flagged, sampled []string) {
	isFlagged := map[string]bool{}
	for _, h := range hits {
		if !isFlagged[h.RecordID] {
			isFlagged[h.RecordID] = true
			flagged = append(flagged, h.RecordID)
		}
	}
	return flagged, sampleUnflagged(recordIDs(recs), isFlagged, sampleSize)
}

// reviewRecords asks the model about the selected records in batches, at
// most parallel at a time. A batch the model cannot answer validly becomes a
// gap in the report, not a failed run.
func reviewRecords(ctx workflow.Context, model ModelSettings, recs activities.ComplianceRecords, hits []activities.RuleHit,
	flagged, sampled []string, batchSize, parallel int) ([]activities.Finding, []string, []activities.ModelCall, error) {
	isSample := map[string]bool{}
	for _, id := range sampled {
		isSample[id] = true
	}
	ids := append(append([]string(nil), flagged...), sampled...)
	var batches [][]string
	for len(ids) > 0 {
		n := min(batchSize, len(ids))
		batches = append(batches, ids[:n])
		ids = ids[n:]
	}
	describe := recordDescriptions(recs, hits)
	results := make([]activities.ChatResult, len(batches))
	errs := make([]error, len(batches))
	for start := 0; start < len(batches); start += parallel {
		var futures []workflow.Future
		for i := start; i < min(start+parallel, len(batches)); i++ {
			futures = append(futures, workflow.ExecuteActivity(
				withModel(ctx, model, fmt.Sprintf("review batch %d of %d: %s", i+1, len(batches), strings.Join(batches[i], ", "))),
				new(activities.Model).Chat, reviewRequest(model, batches[i], describe)))
		}
		for j, f := range futures {
			errs[start+j] = f.Get(ctx, &results[start+j])
		}
	}
	var findings []activities.Finding
	var gaps []string
	var calls []activities.ModelCall
	for i, batch := range batches {
		switch {
		case isErrorType(errs[i], activities.ErrModelInvalidAnswer):
			gaps = append(gaps, fmt.Sprintf("%s: %s", strings.Join(batch, ", "), rootMessage(errs[i])))
			continue
		case errs[i] != nil:
			return nil, nil, nil, errs[i]
		}
		calls = append(calls, results[i].Call)
		answer, err := decodeAnswer[reviewBatch](results[i])
		if err != nil {
			return nil, nil, nil, err
		}
		for _, f := range answer.Findings {
			findings = append(findings, activities.Finding{RecordID: f.RecordID, Concern: f.Concern, Reason: f.Reason, Sampled: isSample[f.RecordID]})
		}
	}
	return findings, gaps, calls, nil
}

func reviewRequest(model ModelSettings, batch []string, describe map[string]string) activities.ChatRequest {
	var lines []string
	for _, id := range batch {
		lines = append(lines, describe[id])
	}
	// Building a schema is deterministic JSON encoding; workflowcheck only sees
	// the reflection beneath encoding/json.
	//workflowcheck:ignore
	answerSchema := reviewSchema(batch)
	return activities.ChatRequest{
		Purpose: "review records",
		Model:   model.Model,
		Messages: []activities.Message{
			{Role: "system", Content: "You are a compliance reviewer. For each record, say whether it is a concern and why, in one sentence. " +
				"Rule hits are leads, not verdicts. Answer with JSON only, one finding per record."},
			{Role: "user", Content: strings.Join(lines, "\n")},
		},
		Schema:  answerSchema,
		Options: activities.ModelOptions{MaxTokens: 150 * len(batch)},
	}
}

// reviewSchema is the answer schema for one batch: a finding per record,
// naming only the batch's records.
func reviewSchema(batch []string) json.RawMessage {
	return schema.Object(schema.Prop("findings", schema.Array("one finding per record", schema.Object(
		schema.Prop("recordId", schema.Enum("the record", batch...)),
		schema.Prop("concern", schema.Boolean("whether the record needs follow-up")),
		schema.Prop("reason", schema.String("why, in one sentence", 200)),
	), len(batch))))
}

// recordDescriptions describes each record in one line for the model, with
// the rules it hit.
func recordDescriptions(recs activities.ComplianceRecords, hits []activities.RuleHit) map[string]string {
	rules := map[string][]string{}
	for _, h := range hits {
		rules[h.RecordID] = append(rules[h.RecordID], h.Rule)
	}
	out := map[string]string{}
	for _, e := range recs.Expenses {
		out[e.ID] = fmt.Sprintf("%s: expense of %s at %s (%s), requested by %s, approved by %s on %s; rule hits: %s",
			e.ID, money.Format(e.Amount, e.Currency), e.Merchant, e.Category, e.RequesterID, e.ApproverID, e.ApprovedAt.UTC().Format("Mon 2006-01-02 15:04"), orNone(rules[e.ID]))
	}
	for _, a := range recs.Access {
		out[a.ID] = fmt.Sprintf("%s: %s (%s) did %s on %s at %s; rule hits: %s",
			a.ID, a.EmployeeID, a.Role, a.Action, a.Resource, a.AccessedAt.UTC().Format("Mon 2006-01-02 15:04"), orNone(rules[a.ID]))
	}
	return out
}

func recordIDs(recs activities.ComplianceRecords) []string {
	var ids []string
	for _, e := range recs.Expenses {
		ids = append(ids, e.ID)
	}
	for _, a := range recs.Access {
		ids = append(ids, a.ID)
	}
	return ids
}

func countPerRule(hits []activities.RuleHit) map[string]int {
	counts := map[string]int{}
	for _, h := range hits {
		counts[h.Rule]++
	}
	return counts
}

func orNone(rules []string) string {
	if len(rules) == 0 {
		return "none"
	}
	sort.Strings(rules)
	return strings.Join(rules, ", ")
}
