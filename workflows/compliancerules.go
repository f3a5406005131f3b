package workflows

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/money"
)

// ComplianceRules are the deterministic rules compliance monitoring applies.
type ComplianceRules struct {
	ReviewAbove decimal.Decimal `json:"reviewAbove"` // expenses above this need review
	SplitLimit  decimal.Decimal `json:"splitLimit"`  // approval limit that split purchases stay under
	SplitWindow time.Duration   `json:"splitWindow"` // purchases this close together count as one
	WorkStart   int             `json:"workStart"`   // first hour of the working day (UTC)
	WorkEnd     int             `json:"workEnd"`     // hour the working day ends (UTC)
}

// DefaultComplianceRules are the rules of runs whose input sets none.
var DefaultComplianceRules = ComplianceRules{ReviewAbove: decimal.NewFromInt(1000), SplitLimit: decimal.NewFromInt(1000),
	SplitWindow: 24 * time.Hour, WorkStart: 7, WorkEnd: 20}

// The rule names, as they appear in reports.
const (
	RuleAmount       = "amount over threshold"
	RuleSelfApproval = "approver is requester"
	RuleOffHours     = "approved on a weekend or after hours"
	RuleSplit        = "split purchase under the limit"
	RuleAccess       = "access outside role"
)

// applyComplianceRules returns every rule hit, in record order.
func applyComplianceRules(recs activities.ComplianceRecords, r ComplianceRules) []activities.RuleHit {
	var hits []activities.RuleHit
	hit := func(rule, id, format string, args ...any) {
		hits = append(hits, activities.RuleHit{Rule: rule, RecordID: id, Detail: fmt.Sprintf(format, args...)})
	}
	for _, e := range recs.Expenses {
		if e.Amount.GreaterThan(r.ReviewAbove) {
			hit(RuleAmount, e.ID, "%s at %s is over %s", money.Format(e.Amount, e.Currency), e.Merchant, money.Fixed(r.ReviewAbove, e.Currency))
		}
		if e.RequesterID == e.ApproverID {
			hit(RuleSelfApproval, e.ID, "%s approved their own expense of %s", e.ApproverID, money.Format(e.Amount, e.Currency))
		}
		at := e.ApprovedAt.UTC()
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday || at.Hour() < r.WorkStart || at.Hour() >= r.WorkEnd {
			hit(RuleOffHours, e.ID, "approved %s", at.Format("Monday 2006-01-02 15:04 UTC"))
		}
	}
	hits = append(hits, splitPurchases(recs.Expenses, r)...)
	for _, a := range recs.Access {
		if !a.Allowed {
			hit(RuleAccess, a.ID, "%s (%s) used %s (%s), which the role does not grant", a.EmployeeID, a.Role, a.Resource, a.Action)
		}
	}
	return hits
}

// splitPurchases flags groups of expenses by one requester at one merchant,
// each under the limit, that together exceed it within the window.
func splitPurchases(expenses []activities.Expense, r ComplianceRules) []activities.RuleHit {
	type key struct{ requester, merchant string }
	groups := map[key][]activities.Expense{}
	var order []key
	for _, e := range expenses {
		if !e.Amount.LessThan(r.SplitLimit) {
			continue
		}
		k := key{e.RequesterID, e.Merchant}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	var hits []activities.RuleHit
	for _, k := range order {
		g := groups[k]
		sort.SliceStable(g, func(i, j int) bool { return g[i].ApprovedAt.Before(g[j].ApprovedAt) })
		for i := range g {
			sum, ids := g[i].Amount, []string{g[i].ID}
			for j := i + 1; j < len(g) && g[j].ApprovedAt.Sub(g[i].ApprovedAt) <= r.SplitWindow; j++ {
				sum = sum.Add(g[j].Amount)
				ids = append(ids, g[j].ID)
			}
			if len(ids) > 1 && sum.GreaterThan(r.SplitLimit) {
				for _, id := range ids {
					if !slices.ContainsFunc(hits, func(h activities.RuleHit) bool { return h.RecordID == id }) {
						hits = append(hits, activities.RuleHit{Rule: RuleSplit, RecordID: id, Detail: fmt.Sprintf(
							"%s bought at %s %d times within %s for %s together, each under %s", k.requester, k.merchant, len(ids), r.SplitWindow,
							money.Format(sum, g[i].Currency), money.Fixed(r.SplitLimit, g[i].Currency))})
					}
				}
			}
		}
	}
	return hits
}

// sampleUnflagged picks n records no rule flagged, spread evenly over the
// sorted ids, so every run of the same period samples the same records.
func sampleUnflagged(ids []string, flagged map[string]bool, n int) []string {
	var clean []string
	for _, id := range ids {
		if !flagged[id] {
			clean = append(clean, id)
		}
	}
	sort.Strings(clean)
	if n <= 0 || len(clean) == 0 {
		return nil
	}
	if n >= len(clean) {
		return clean
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, clean[i*len(clean)/n])
	}
	return out
}
