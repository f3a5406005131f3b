package activities

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store/storetest"
)

func TestLoadComplianceRecords(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	now := time.Now().UTC()
	recs, err := s.LoadComplianceRecords(context.Background(), Period{From: now.AddDate(0, 0, -7), To: now})
	require.NoError(t, err)
	assert.Len(t, recs.Expenses, 12)
	assert.Len(t, recs.Access, 7)
	denied := map[string]bool{}
	for _, a := range recs.Access {
		if !a.Allowed {
			denied[a.ID] = true
		}
	}
	assert.Equal(t, map[string]bool{"A-003": true, "A-005": true}, denied, "an engineer in payments and in the HR portal")

	recs, err = s.LoadComplianceRecords(context.Background(), Period{From: now.AddDate(-1, 0, 0), To: now.AddDate(-1, 0, 7)})
	require.NoError(t, err)
	assert.Empty(t, recs.Expenses)
}

func TestWriteComplianceReport(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	r := &Reports{Store: s, Dir: filepath.Join(t.TempDir(), "reports")}
	rep := ComplianceReport{ID: "compliance-1", Period: Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)},
		Model: "m", ModelDigest: "sha256:0123456789abcdef", RecordsChecked: 3,
		Hits:        []RuleHit{{Rule: "approver is requester", RecordID: "X-004", Detail: "E-200 approved | their own"}},
		HitsPerRule: map[string]int{"approver is requester": 1},
		Findings:    []Finding{{RecordID: "X-004", Concern: true, Reason: "self-approved dinner"}}}
	loc, err := r.WriteComplianceReport(context.Background(), rep)
	require.NoError(t, err)
	_, err = r.WriteComplianceReport(context.Background(), rep)
	require.NoError(t, err, "a retried write succeeds")

	md, err := os.ReadFile(loc.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), "| approver is requester | 1 |")
	assert.Contains(t, string(md), `| X-004 | approver is requester | E-200 approved \| their own |`)
	assert.Contains(t, string(md), "| X-004 | true | false | self-approved dinner |")
	assert.Contains(t, string(md), "m (0123456789ab)")
	js, err := os.ReadFile(loc.JSON)
	require.NoError(t, err)
	var back ComplianceReport
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, rep.Hits, back.Hits)
	assert.Equal(t, 1, storetest.Int(t, s.Records, `SELECT count(*) FROM reports WHERE idempotency_key = 'compliance-1'`))
}
