package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/store"
)

// LoadComplianceRecords loads the expense and access records of a period.
func (s *Store) LoadComplianceRecords(ctx context.Context, p Period) (ComplianceRecords, error) {
	return s.Records.ComplianceRecords(ctx, p)
}

// RuleHit is one record a deterministic rule flagged.
type RuleHit struct {
	Rule     string `json:"rule"`
	RecordID string `json:"recordId"`
	Detail   string `json:"detail"`
}

// Finding is the model's review of one record.
type Finding struct {
	RecordID string `json:"recordId"`
	Concern  bool   `json:"concern"`
	Reason   string `json:"reason"`
	Sampled  bool   `json:"sampled"` // reviewed as part of the unflagged sample
}

// ComplianceReport is everything one compliance run found.
type ComplianceReport struct {
	ID             string         `json:"id"`
	Period         Period         `json:"period"`
	GeneratedAt    time.Time      `json:"generatedAt"`
	Model          string         `json:"model"`
	ModelDigest    string         `json:"modelDigest"`
	Rules          any            `json:"rules"`
	RecordsChecked int            `json:"recordsChecked"`
	Hits           []RuleHit      `json:"hits"`
	HitsPerRule    map[string]int `json:"hitsPerRule"`
	Findings       []Finding      `json:"findings"`
	ReviewGaps     []string       `json:"reviewGaps,omitempty"` // batches the model could not review
}

// ReportLocation says where a report was written.
type ReportLocation struct {
	Markdown string `json:"markdown"` // file path
	JSON     string `json:"json"`     // file path
}

// Reports writes compliance reports to the store and a folder.
type Reports struct {
	Store *Store
	Dir   string
}

// WriteComplianceReport renders a report as Markdown and JSON, stores both
// under the report's id (once), and writes them to the reports folder.
func (r *Reports) WriteComplianceReport(ctx context.Context, rep ComplianceReport) (ReportLocation, error) {
	return r.write(ctx, rep.ID, "compliance", rep.Period, rep.GeneratedAt, RenderComplianceMarkdown(rep), rep)
}

// write keeps a report in the store under its id (once) and writes it to
// the reports folder as Markdown and JSON.
func (r *Reports) write(ctx context.Context, id, kind string, period store.Period, at time.Time, md string, body any) (ReportLocation, error) {
	js, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		return ReportLocation{}, fmt.Errorf("encode report %s: %w", id, err)
	}
	err = r.Store.Records.SaveReport(ctx, store.Report{ID: id, Kind: kind, Period: period, Markdown: md, JSON: string(js), GeneratedAt: at})
	if err != nil {
		return ReportLocation{}, err
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return ReportLocation{}, fmt.Errorf("create the reports folder %s: %w", r.Dir, err)
	}
	loc := ReportLocation{Markdown: filepath.Join(r.Dir, id+".md"), JSON: filepath.Join(r.Dir, id+".json")}
	if err := writeFileAtomic(loc.Markdown, []byte(md)); err != nil {
		return loc, err
	}
	return loc, writeFileAtomic(loc.JSON, js)
}

// writeFileAtomic writes through a temporary file, so a crash never leaves
// half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// RenderComplianceMarkdown is the report as people read it.
func RenderComplianceMarkdown(rep ComplianceReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Compliance report %s\n\n", rep.ID)
	fmt.Fprintf(&b, "- Period: %s\n- Generated: %s\n- Records checked: %d\n- Model: %s (%s)\n\n",
		rep.Period, rep.GeneratedAt.UTC().Format(time.RFC3339), rep.RecordsChecked, rep.Model, ShortDigest(rep.ModelDigest))
	b.WriteString("## Rule hits\n\n| rule | hits |\n| --- | ---: |\n")
	rules := make([]string, 0, len(rep.HitsPerRule))
	for r := range rep.HitsPerRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | %d |\n", r, rep.HitsPerRule[r])
	}
	b.WriteString("\n| record | rule | detail |\n| --- | --- | --- |\n")
	for _, h := range rep.Hits {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", h.RecordID, h.Rule, mdCell(h.Detail))
	}
	b.WriteString("\n## Model review\n\n| record | concern | sampled | reason |\n| --- | --- | --- | --- |\n")
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "| %s | %t | %t | %s |\n", f.RecordID, f.Concern, f.Sampled, mdCell(f.Reason))
	}
	for _, g := range rep.ReviewGaps {
		fmt.Fprintf(&b, "\n> Not reviewed: %s\n", g)
	}
	rulesJSON, _ := json.MarshalIndent(rep.Rules, "", "  ")
	fmt.Fprintf(&b, "\n## Rules applied\n\n```json\n%s\n```\n", rulesJSON)
	return b.String()
}

func mdCell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

// ShortDigest is a model digest as people read it: 12 hex digits.
func ShortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
