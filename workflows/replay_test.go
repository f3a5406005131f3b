package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays every history in testdata/histories,
// recorded from real runs by the end-to-end tests (TANDEM_RECORD_HISTORY),
// against today's workflow code: a change to a shipped command sequence
// fails here unless it is behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("../testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(TicketRouting, workflow.RegisterOptions{Name: TicketRoutingName})
			replayer.RegisterWorkflowWithOptions(InvoiceProcessing, workflow.RegisterOptions{Name: InvoiceProcessingName})
			replayer.RegisterWorkflowWithOptions(LeaveApproval, workflow.RegisterOptions{Name: LeaveApprovalName})
			replayer.RegisterWorkflowWithOptions(ComplianceMonitoring, workflow.RegisterOptions{Name: ComplianceMonitoringName})
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file))
		})
	}
}
