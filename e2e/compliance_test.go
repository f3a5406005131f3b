package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/workflows"
)

// TestComplianceReportThroughTheStarter runs compliance monitoring over the
// seeded week with the real model and checks the report in the store and
// the reports folder.
func TestComplianceReportThroughTheStarter(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	code, stdout, stderr := td.starter(t, "compliance", "-o", "json")
	require.Equal(t, 0, code, stderr)
	l := jsonLines[struct {
		Result workflows.ComplianceResult `json:"result"`
		Error  string                     `json:"error"`
	}](t, stdout)[0]
	require.Empty(t, l.Error)
	rep := l.Result.Report
	assert.Equal(t, 19, rep.RecordsChecked)
	for _, rule := range []string{workflows.RuleAmount, workflows.RuleSelfApproval, workflows.RuleSplit, workflows.RuleAccess} {
		assert.Positive(t, rep.HitsPerRule[rule], rule)
	}
	assert.NotEmpty(t, rep.ModelDigest)
	assert.Equal(t, len(rep.Findings) > 0, len(l.Result.ModelCalls) > 0)
	for _, f := range rep.Findings {
		assert.NotEmpty(t, f.Reason)
	}
	if dir := os.Getenv("TANDEM_RECORD_HISTORY"); dir != "" {
		recordHistory(t, td.servers.Client(t), rep.ID, "", filepath.Join(dir, "compliance.json"))
	}
	md, err := os.ReadFile(l.Result.Location.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), "| "+workflows.RuleSelfApproval+" | 1 |")

	var stored int
	storetest.Scan(t, td.db, `SELECT count(*) FROM reports WHERE idempotency_key = ?`, []any{rep.ID}, &stored)
	assert.Equal(t, 1, stored)

	code, stdout, _ = td.starter(t, "compliance", "--from", "2020-01-01", "--to", "2020-01-08")
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "there are no expense or access records from 2020-01-01 00:00 to 2020-01-08 00:00 UTC; check the period")
}

// TestComplianceSchedule creates the schedule twice (idempotently), pauses
// it, triggers a run by hand and finds that run.
func TestComplianceSchedule(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	id := "e2e-compliance-" + strings.ToLower(t.Name())
	run := func(args ...string) string {
		code, stdout, stderr := td.starter(t, append([]string{"schedule", "--id", id}, args...)...)
		require.Equal(t, 0, code, stderr)
		return stdout
	}
	assert.Contains(t, run("create", "--every", "24h"), "Created schedule "+id)
	assert.Contains(t, run("create"), "already exists; nothing changed")
	assert.Contains(t, run("pause", "--note", "audit week"), "Paused")
	assert.Contains(t, run("describe"), "paused (audit week)")
	run("trigger")
	require.Eventually(t, func() bool {
		return strings.Contains(run("describe"), "ran ")
	}, 30*time.Second, 500*time.Millisecond, "the triggered run shows in the schedule")
	assert.Contains(t, run("delete"), "Deleted")

	code, _, stderr := td.starter(t, "schedule", "--id", id, "pause")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "there is no schedule "+id)
}
