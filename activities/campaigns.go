package activities

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"

	"github.com/tandemhq/tandem/internal/money"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/store"
)

// CampaignResultsEvent names the event that delivers a campaign's results to
// the agent running it.
const CampaignResultsEvent = "campaign-results"

// Channels content is published on.
var Channels = []string{"email", "social"}

// Arguments of the marketing tools.
type (
	// PastCampaignsArgs reviews the campaigns that ended.
	PastCampaignsArgs struct {
		Limit int `json:"limit"`
	}
	// CampaignStatusArgs reviews one campaign so far.
	CampaignStatusArgs struct {
		CampaignID string `json:"campaignId"`
	}
	// PublishContentArgs publishes one variant of a campaign's content.
	PublishContentArgs struct {
		CampaignID string `json:"campaignId"`
		Channel    string `json:"channel"`
		Variant    string `json:"variant"`
		Subject    string `json:"subject"`
		Body       string `json:"body"`
	}
	// ScheduleSendArgs sends published content to an audience on a day.
	ScheduleSendArgs struct {
		CampaignID string          `json:"campaignId"`
		ContentID  string          `json:"contentId"`
		AudienceID string          `json:"audienceId"`
		SendOn     string          `json:"sendOn"`
		Spend      decimal.Decimal `json:"spend"`
	}
	// CampaignReportArgs writes the campaign's final report.
	CampaignReportArgs struct {
		CampaignID string `json:"campaignId"`
		Summary    string `json:"summary"`
		Learnings  string `json:"learnings"`
	}
)

// Argument schemas of the marketing tools.
var (
	PastCampaignsSchema  = schema.Object(schema.Prop("limit", schema.Integer("how many campaigns, 1 to 5", 1, 5)))
	CampaignStatusSchema = schema.Object(schema.Prop("campaignId", schema.String("campaign id, like CMP-SPRING", 40)))
	PublishContentSchema = schema.Object(
		schema.Prop("campaignId", schema.String("campaign id", 40)),
		schema.Prop("channel", schema.Enum("where it is published", Channels...)),
		schema.Prop("variant", schema.String("a short label for this variant, like price-led", 40)),
		schema.Prop("subject", schema.String("subject line or headline", 120)),
		schema.Prop("body", schema.String("the text", 1200)))
	ScheduleSendSchema = schema.Object(
		schema.Prop("campaignId", schema.String("campaign id", 40)),
		schema.Prop("contentId", schema.String("published content id, like CMP-SPRING-V1", 60)),
		schema.Prop("audienceId", schema.String("audience id, like AUD-NEWS", 40)),
		schema.Prop("sendOn", schema.String("the day, YYYY-MM-DD", 10)),
		schema.Prop("spend", schema.Number("what the send may spend, in the campaign's currency")))
	CampaignReportSchema = schema.Object(
		schema.Prop("campaignId", schema.String("campaign id", 40)),
		schema.Prop("summary", schema.String("what the campaign did and achieved", 1200)),
		schema.Prop("learnings", schema.String("what to do again, and what not", 1200)))
)

// marketingTools run a campaign; they are part of ActivityTools.
var marketingTools = []ActivityTool{
	newTool("past_campaigns", "Review the campaigns that ended: their goals, spend, and each variant's results.",
		PastCampaignsSchema, RiskRead, (*Tools).pastCampaigns),
	newTool("campaign_status", "Review a campaign so far: goal, dates, budget left, published content, sends, results, and the audiences.",
		CampaignStatusSchema, RiskRead, (*Tools).campaignStatus),
	withDetails(newTool("publish_content", "Publish one variant of email or social content for a campaign; a person approves it first.",
		PublishContentSchema, RiskExternal, (*Tools).publishContent), (*Tools).publishDetails),
	withDetails(newTool("schedule_send", "Schedule a send of published content to an audience on a day, within the campaign's budget.",
		ScheduleSendSchema, RiskWrite, (*Tools).scheduleSend), (*Tools).sendDetails),
	newTool("campaign_report", "Write the campaign's final report (Markdown and JSON) with your summary and learnings.",
		CampaignReportSchema, RiskWrite, (*Tools).campaignReport),
}

func (t *Tools) pastCampaigns(ctx context.Context, _ ToolCall, a PastCampaignsArgs) (ToolResult, error) {
	past, err := t.Store.Records.PastCampaigns(ctx, t.Store.Records.Clock().Format(time.DateOnly), max(a.Limit, 1))
	if err != nil {
		return ToolResult{}, err
	}
	if len(past) == 0 {
		return ToolResult{Observation: "no campaign has ended yet"}, nil
	}
	var b strings.Builder
	read := make([]string, len(past))
	for i, r := range past {
		read[i] = "campaign:" + r.ID
		fmt.Fprintf(&b, "%s %q for %s, %s to %s: goal %d conversions, got %d; spent %s of %s\n", r.ID, r.Name, r.Product,
			r.StartsOn, r.EndsOn, r.GoalConversions, r.Results.Conversions, money.Format(r.Results.Spend, r.Currency), money.Format(r.Budget, r.Currency))
		writeVariants(&b, r)
	}
	return t.bounded(ctx, fmt.Sprintf("past-campaigns/%s", t.Store.Records.Clock().Format(time.DateOnly)), b.String(), read)
}

func (t *Tools) campaignStatus(ctx context.Context, call ToolCall, a CampaignStatusArgs) (ToolResult, error) {
	r, err := t.Store.Records.ReviewCampaign(ctx, strings.TrimSpace(a.CampaignID))
	if errors.Is(err, store.ErrNotFound) {
		return ToolResult{Observation: fmt.Sprintf("there is no campaign %q", a.CampaignID)}, nil
	} else if err != nil {
		return ToolResult{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q for %s runs %s to %s (today is %s). Goal %d conversions; %d so far from %d result reports (%s).\n",
		r.ID, r.Name, r.Product, r.StartsOn, r.EndsOn, t.Store.Records.Clock().Format(time.DateOnly), r.GoalConversions,
		r.Results.Conversions, len(r.Batches), strings.Join(r.Batches, ", "))
	fmt.Fprintf(&b, "Budget %s, scheduled %s, left %s; one send may spend at most %s.\n", money.Format(r.Budget, r.Currency),
		money.Format(r.Scheduled, r.Currency), money.Format(r.Left(), r.Currency), money.Format(r.MaxSend, r.Currency))
	writeVariants(&b, r)
	for _, sd := range r.Sends {
		fmt.Fprintf(&b, "send %s to %s on %s, %s\n", sd.ContentID, sd.AudienceID, sd.SendOn, money.Format(sd.Spend, r.Currency))
	}
	audiences, err := t.Store.Records.Audiences(ctx)
	if err != nil {
		return ToolResult{}, err
	}
	for _, au := range audiences {
		fmt.Fprintf(&b, "audience %s: %s, %d people (%s)\n", au.ID, au.Name, au.Size, au.Description)
	}
	return t.bounded(ctx, fmt.Sprintf("%s/%d", call.RunKey, call.Step), b.String(), []string{"campaign:" + r.ID})
}

// writeVariants writes a line per piece of content: its results and rates.
func writeVariants(b *strings.Builder, r store.CampaignReview) {
	for _, c := range r.Content {
		p := c.Results
		fmt.Fprintf(b, "  %s %s %q: %d sends; %d sent, %s opened, %s clicked, %d conversions, %s per conversion\n", c.ID, c.Channel, c.Variant,
			c.Sends, p.Sent, rate(p.Opens, p.Sent), rate(p.Clicks, p.Sent), p.Conversions, perConversion(p, r.Currency))
	}
}

func rate(n, of int64) string {
	if of == 0 {
		return "n/a"
	}
	return decimal.NewFromInt(n*100).Div(decimal.NewFromInt(of)).StringFixed(1) + "%"
}

func perConversion(p store.Performance, currency string) string {
	if p.Conversions == 0 {
		return "n/a"
	}
	return money.Format(money.Round(p.Spend.Div(decimal.NewFromInt(p.Conversions)), currency), currency)
}

func (t *Tools) publishContent(ctx context.Context, call ToolCall, a PublishContentArgs) (ToolResult, error) {
	ct, err := t.Store.Records.PublishContent(ctx, store.Content{PublishKey: call.key(), CampaignID: strings.TrimSpace(a.CampaignID),
		Channel: a.Channel, Variant: a.Variant, Subject: a.Subject, Body: a.Body, ApprovedBy: cmp.Or(call.ApprovedBy, "policy")},
		Notification{IdempotencyKey: "publish/" + call.key(), Recipients: []string{a.Channel + ":" + a.CampaignID}, Subject: a.Subject,
			Body: a.Body, WorkflowID: call.RunKey})
	if errors.Is(err, store.ErrNotFound) {
		return ToolResult{Observation: fmt.Sprintf("there is no campaign %q; nothing was published", a.CampaignID)}, nil
	} else if err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: fmt.Sprintf("published %s (%s, %q) at %s, approved by %s; schedule_send sends it", ct.ID, a.Channel,
		a.Variant, ct.PublishedAt, ct.ApprovedBy)}, nil
}

func (t *Tools) publishDetails(_ context.Context, _ ToolCall, a PublishContentArgs) (string, error) {
	return fmt.Sprintf("Publishes to %s for campaign %s, variant %q:\nSubject: %s\n\n%s", a.Channel, a.CampaignID, a.Variant, a.Subject, a.Body), nil
}

func (t *Tools) scheduleSend(ctx context.Context, call ToolCall, a ScheduleSendArgs) (ToolResult, error) {
	out, err := t.Store.Records.ScheduleSend(ctx, store.Send{Key: call.key(), CampaignID: strings.TrimSpace(a.CampaignID),
		ContentID: strings.TrimSpace(a.ContentID), AudienceID: strings.TrimSpace(a.AudienceID), SendOn: strings.TrimSpace(a.SendOn), Spend: a.Spend})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ToolResult{Observation: fmt.Sprintf("there is no campaign %q; nothing was scheduled", a.CampaignID)}, nil
	case err != nil:
		return ToolResult{}, err
	case out.Refused != "":
		return ToolResult{Observation: "send not scheduled: " + out.Refused}, nil
	case out.Already:
		return ToolResult{Observation: fmt.Sprintf("send %s was already scheduled; %s of the budget is left", call.key(), money.Format(out.Left, out.Currency))}, nil
	}
	return ToolResult{Observation: fmt.Sprintf("scheduled %s to %s on %s for %s (send %s); %s of the budget is left", a.ContentID, a.AudienceID,
		a.SendOn, money.Format(a.Spend, out.Currency), call.key(), money.Format(out.Left, out.Currency))}, nil
}

func (t *Tools) sendDetails(ctx context.Context, _ ToolCall, a ScheduleSendArgs) (string, error) {
	r, err := t.Store.Records.ReviewCampaign(ctx, strings.TrimSpace(a.CampaignID))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Sprintf("There is no campaign %q: the send would be refused.", a.CampaignID), nil
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("Spends %s of the %s left in campaign %s's budget (at most %s per send).", money.Format(a.Spend, r.Currency),
		money.Format(r.Left(), r.Currency), r.ID, money.Format(r.MaxSend, r.Currency)), nil
}

// CampaignReport is a campaign's final report, as the marketing agent
// writes it.
type CampaignReport struct {
	ID              string           `json:"id"`
	Campaign        string           `json:"campaign"`
	Name            string           `json:"name"`
	Product         string           `json:"product"`
	Period          store.Period     `json:"period"`
	GeneratedAt     time.Time        `json:"generatedAt"`
	GoalConversions int64            `json:"goalConversions"`
	Conversions     int64            `json:"conversions"`
	GoalReached     bool             `json:"goalReached"`
	Budget          decimal.Decimal  `json:"budget"`
	Scheduled       decimal.Decimal  `json:"scheduled"`
	Spent           decimal.Decimal  `json:"spent"` // as results reported it
	Currency        string           `json:"currency"`
	Variants        []VariantOutcome `json:"variants"`
	ResultReports   []string         `json:"resultReports"`
	Summary         string           `json:"summary"`
	Learnings       string           `json:"learnings"`
	WrittenBy       string           `json:"writtenBy"` // the agent run
}

// VariantOutcome is one piece of content in a campaign report.
type VariantOutcome struct {
	Content     string          `json:"content"`
	Channel     string          `json:"channel"`
	Variant     string          `json:"variant"`
	Subject     string          `json:"subject"`
	ApprovedBy  string          `json:"approvedBy"`
	Sends       int             `json:"sends"`
	Sent        int64           `json:"sent"`
	Opens       int64           `json:"opens"`
	Clicks      int64           `json:"clicks"`
	Conversions int64           `json:"conversions"`
	Spend       decimal.Decimal `json:"spend"`
}

func (t *Tools) campaignReport(ctx context.Context, call ToolCall, a CampaignReportArgs) (ToolResult, error) {
	r, err := t.Store.Records.ReviewCampaign(ctx, strings.TrimSpace(a.CampaignID))
	if errors.Is(err, store.ErrNotFound) {
		return ToolResult{Observation: fmt.Sprintf("there is no campaign %q; no report was written", a.CampaignID)}, nil
	} else if err != nil {
		return ToolResult{}, err
	}
	from, _ := time.Parse(time.DateOnly, r.StartsOn)
	to, _ := time.Parse(time.DateOnly, r.EndsOn)
	rep := CampaignReport{ID: fmt.Sprintf("campaign-%s-%.8x", r.ID, sha256.Sum256([]byte(call.RunKey))), Campaign: r.ID, Name: r.Name, Product: r.Product, Period: store.Period{From: from, To: to},
		GeneratedAt: t.Store.Records.Clock(), GoalConversions: r.GoalConversions, Conversions: r.Results.Conversions,
		GoalReached: r.Results.Conversions >= r.GoalConversions, Budget: r.Budget, Scheduled: r.Scheduled, Spent: r.Results.Spend,
		Currency: r.Currency, ResultReports: r.Batches, Summary: a.Summary, Learnings: a.Learnings, WrittenBy: call.RunKey}
	for _, c := range r.Content {
		rep.Variants = append(rep.Variants, VariantOutcome{Content: c.ID, Channel: c.Channel, Variant: c.Variant, Subject: c.Subject,
			ApprovedBy: c.ApprovedBy, Sends: c.Sends, Sent: c.Results.Sent, Opens: c.Results.Opens, Clicks: c.Results.Clicks,
			Conversions: c.Results.Conversions, Spend: c.Results.Spend})
	}
	loc, err := t.writeReport(ctx, rep.ID, "campaign", rep.Period, rep.GeneratedAt, RenderCampaignMarkdown(rep), rep)
	if err != nil {
		return ToolResult{}, err
	}
	return ToolResult{Observation: fmt.Sprintf("report %s written: %d of %d conversions, %s spent; %s and %s", rep.ID, rep.Conversions,
		rep.GoalConversions, money.Format(rep.Spent, rep.Currency), loc.Markdown, loc.JSON), Ref: rep.ID}, nil
}

// writeReport keeps a report in the store and as Markdown and JSON files
// in the reports folder.
func (t *Tools) writeReport(ctx context.Context, id, kind string, period store.Period, at time.Time, md string, body any) (ReportLocation, error) {
	return (&Reports{Store: t.Store, Dir: t.ReportsDir}).write(ctx, id, kind, period, at, md, body)
}

// RenderCampaignMarkdown is a campaign report as people read it.
func RenderCampaignMarkdown(rep CampaignReport) string {
	var b bytes.Buffer
	reached := "not reached"
	if rep.GoalReached {
		reached = "reached"
	}
	fmt.Fprintf(&b, "# Campaign report: %s (%s)\n\n", rep.Name, rep.Campaign)
	fmt.Fprintf(&b, "- Product: %s\n- Period: %s\n- Generated: %s by %s\n- Goal: %d conversions, %s (%d)\n- Budget: %s; scheduled %s; spent %s\n- Result reports: %s\n\n",
		rep.Product, rep.Period, rep.GeneratedAt.UTC().Format(time.RFC3339), rep.WrittenBy, rep.GoalConversions, reached, rep.Conversions,
		money.Format(rep.Budget, rep.Currency), money.Format(rep.Scheduled, rep.Currency), money.Format(rep.Spent, rep.Currency),
		strings.Join(rep.ResultReports, ", "))
	b.WriteString("## Variants\n\n| content | channel | variant | approved by | sends | sent | opens | clicks | conversions | spend |\n" +
		"| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, v := range rep.Variants {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %d | %d | %s |\n", v.Content, v.Channel, mdCell(v.Variant), v.ApprovedBy,
			v.Sends, v.Sent, v.Opens, v.Clicks, v.Conversions, money.Format(v.Spend, rep.Currency))
	}
	fmt.Fprintf(&b, "\n## Summary\n\n%s\n\n## Learnings\n\n%s\n", strings.TrimSpace(rep.Summary), strings.TrimSpace(rep.Learnings))
	return b.String()
}

// CampaignResults is a report of a campaign's results, as the system that
// sends delivers it in a campaign-results event (starter campaign-results,
// POST /v1/runs/{id}/campaign-results, the MCP tool send_campaign_results).
type CampaignResults struct {
	Campaign string          `json:"campaign"`
	Batch    string          `json:"batch"` // the report's own name, such as week-2: a report is kept once
	Results  []VariantResult `json:"results"`
}

// VariantResult is what one piece of content achieved since the last report.
type VariantResult struct {
	Content     string          `json:"content"`
	Sent        int64           `json:"sent"`
	Opens       int64           `json:"opens"`
	Clicks      int64           `json:"clicks"`
	Conversions int64           `json:"conversions"`
	Spend       decimal.Decimal `json:"spend"`
}

// ParseCampaignResults reads a campaign-results event's data, refusing
// with a sentence what is not a report of results.
func ParseCampaignResults(data string) (CampaignResults, error) {
	var r CampaignResults
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("campaign results are JSON like {\"campaign\":\"CMP-SPRING\",\"batch\":\"week-1\",\"results\":[{\"content\":\"CMP-SPRING-V1\",\"sent\":100,\"opens\":40,\"clicks\":9,\"conversions\":2,\"spend\":\"50.00\"}]}: %v", err)
	}
	switch {
	case strings.TrimSpace(r.Campaign) == "":
		return r, errors.New("campaign results must name their campaign")
	case strings.TrimSpace(r.Batch) == "" || strings.ContainsAny(r.Batch, " \t\n") || len(r.Batch) > 40:
		return r, errors.New("campaign results need a batch: one word of at most 40 characters naming the report, such as week-2")
	case len(r.Results) == 0:
		return r, errors.New("campaign results list no content's results")
	}
	for _, v := range r.Results {
		if strings.TrimSpace(v.Content) == "" {
			return r, errors.New("each result names the content it is for")
		}
		if v.Sent < 0 || v.Opens < 0 || v.Clicks < 0 || v.Conversions < 0 || v.Spend.IsNegative() {
			return r, fmt.Errorf("the results of %s have a negative number", v.Content)
		}
	}
	return r, nil
}

// RecordCampaignResults keeps the results a campaign-results event
// delivered, once per campaign and batch, and says what it kept. Results
// for an unknown campaign or content are refused with a sentence.
func (s *Store) RecordCampaignResults(ctx context.Context, from, data string) (string, error) {
	r, err := ParseCampaignResults(data)
	if err != nil {
		return "", nonRetryable(ErrToolInput, "%v", err)
	}
	run := activity.GetInfo(ctx).WorkflowExecution.ID
	if sim, err := s.simulated(ctx, CampaignResultsEvent, run+"/"+r.Campaign+"/"+r.Batch, run, r); sim {
		return fmt.Sprintf("sandbox: results %s of %s were recorded as a sandbox effect, not kept", r.Batch, r.Campaign), err
	}
	lines := make([]store.ResultLine, len(r.Results))
	var conversions int64
	for i, v := range r.Results {
		lines[i] = store.ResultLine{ContentID: v.Content, Sent: v.Sent, Opens: v.Opens, Clicks: v.Clicks, Conversions: v.Conversions, Spend: v.Spend}
		conversions += v.Conversions
	}
	recorded, err := s.Records.RecordCampaignResults(ctx, store.CampaignResults{CampaignID: r.Campaign, Batch: r.Batch, ReportedBy: from, Lines: lines})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nonRetryable(ErrToolInput, "%v", err)
	case err != nil:
		return "", err
	case !recorded:
		return fmt.Sprintf("results %s of %s were recorded before; kept once", r.Batch, r.Campaign), nil
	}
	return fmt.Sprintf("recorded results %s of %s: %d pieces of content, %d conversions", r.Batch, r.Campaign, len(lines), conversions), nil
}
