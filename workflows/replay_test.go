package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays histories recorded from real runs
// (by the end-to-end tests with TANDEM_RECORD_HISTORY) against today's
// workflow code: a change to a shipped command sequence fails here unless it
// is behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(TicketRouting, workflow.RegisterOptions{Name: TicketRoutingName})
	require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, "../testdata/histories/ticket-routing.json"))
}
