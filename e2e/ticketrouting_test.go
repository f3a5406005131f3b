package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/workflows"
)

// TestTicketRoutingThroughStarter routes every sample ticket with the real
// starter command, worker, Temporal and Ollama, and checks each result, its
// stored row and its history.
func TestTicketRoutingThroughStarter(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "testdata", "tickets", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)

	code, stdout, stderr := td.starter(t, append([]string{"route-ticket", "-o", "json"}, files...)...)
	require.Equal(t, 0, code, stderr)
	type line struct {
		Source     string                        `json:"source"`
		WorkflowID string                        `json:"workflowId"`
		RunID      string                        `json:"runId"`
		URL        string                        `json:"url"`
		Result     workflows.TicketRoutingResult `json:"result"`
		Pending    *workflows.PendingDecision    `json:"pending"`
		Error      string                        `json:"error"`
	}
	lines := jsonLines[line](t, stdout)
	require.Len(t, lines, len(files))
	// Drafts the random model marked risky wait for review: approve them.
	for i, l := range lines {
		if l.Pending == nil {
			continue
		}
		assert.True(t, l.Pending.AllowEdit, "a reviewer may edit the draft")
		code, stdout, stderr := td.starter(t, "edit", l.WorkflowID, "--by", "support.agent", "--text", "Thank you, we are on it.", "--wait", "-o", "json")
		require.Equal(t, 0, code, stderr)
		lines[i].Result = jsonLines[line](t, stdout)[0].Result
	}

	c := td.servers.Client(t)

	for _, l := range lines {
		t.Run(filepath.Base(l.Source), func(t *testing.T) {
			require.Empty(t, l.Error)
			assert.Contains(t, l.URL, "/workflows/"+l.WorkflowID+"/"+l.RunID)
			res := l.Result
			assertWellFormed(t, res)

			var queue, category string
			var sla int
			storetest.Scan(t, td.db, `SELECT queue, category, sla_minutes FROM tickets WHERE workflow_id = ?`, []any{l.WorkflowID},
				&queue, &category, &sla)
			assert.Equal(t, res.Route.Queue, queue)
			assert.Equal(t, res.Classification.Category, category)
			assert.Equal(t, res.Route.SLAMinutes, sla)

			activitiesRun := scheduledActivities(t, c, l.WorkflowID, l.RunID)
			require.GreaterOrEqual(t, len(activitiesRun), 3)
			assert.Equal(t, []string{"Chat", "Chat"}, activitiesRun[:2], "classify and draft, one activity each whatever the model answered")
			assert.Equal(t, "SaveTicket", activitiesRun[len(activitiesRun)-1], "the ticket and its reply are stored together, last")
			require.NotNil(t, res.Review)
			assert.True(t, res.Review.Sent)
			if res.Review.Required {
				assert.Equal(t, "Thank you, we are on it.", res.DraftReply, "the reviewer's edit is what went out")
			}
			var sent string
			storetest.Scan(t, td.db, `SELECT body FROM outbox WHERE idempotency_key = ?`, []any{l.WorkflowID + "/reply"}, &sent)
			assert.Equal(t, res.DraftReply, sent)

			desc, err := c.DescribeWorkflowExecution(context.Background(), l.WorkflowID, l.RunID)
			require.NoError(t, err)
			sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
			assert.Contains(t, string(sa["TandemQueue"].GetData()), res.Route.Queue)
			assert.Contains(t, string(sa["TandemStatus"].GetData()), "done")
		})
	}
	if dir := os.Getenv("TANDEM_RECORD_HISTORY"); dir != "" {
		for _, l := range lines {
			if l.Result.Review != nil && !l.Result.Review.Required {
				recordHistory(t, c, l.WorkflowID, l.RunID, filepath.Join(dir, "ticket-routing.json"))
				break
			}
		}
		for _, l := range lines {
			if l.Result.Review != nil && l.Result.Review.Required {
				recordHistory(t, c, l.WorkflowID, l.RunID, filepath.Join(dir, "ticket-routing-reviewed.json"))
				break
			}
		}
	}
}

// TestTicketRoutingMissingModel checks that a model the server does not have
// fails the run at once with a sentence naming the model and the fix.
func TestTicketRoutingMissingModel(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	c := td.servers.Client(t)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		TaskQueue: td.cfg.TaskQueue, WorkflowExecutionTimeout: time.Minute,
	}, workflows.TicketRoutingName, workflows.TicketRoutingInput{
		Ticket: sampleTicket(),
		Model:  workflows.ModelSettings{Model: "no-such-model", TaskQueue: td.cfg.ModelTaskQueue},
	})
	require.NoError(t, err)
	err = run.Get(context.Background(), nil)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, activities.ErrModelNotFound, appErr.Type())
	assert.Contains(t, appErr.Message(), "ollama pull no-such-model")
}

// TestTicketRoutingUsesWorkerModel starts a run without a model, as another
// service might, and checks that the worker's configured model served it and
// that the choice is in the history.
func TestTicketRoutingUsesWorkerModel(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	c := td.servers.Client(t)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		TaskQueue: td.cfg.TaskQueue, WorkflowExecutionTimeout: 2 * time.Minute,
	}, workflows.TicketRoutingName, workflows.TicketRoutingInput{Ticket: sampleTicket()})
	require.NoError(t, err)
	var res workflows.TicketRoutingResult
	require.NoError(t, run.Get(context.Background(), &res))
	assertWellFormed(t, res)
	for _, call := range res.ModelCalls {
		assert.Equal(t, td.cfg.Model, call.Model)
	}
	assert.Contains(t, scheduledActivities(t, c, run.GetID(), run.GetRunID()), "Chat")
	assert.Contains(t, localActivities(t, c, run.GetID(), run.GetRunID()), "ModelDefaults")
}

func sampleTicket() workflows.Ticket {
	return workflows.Ticket{Subject: "Invoice shows the wrong VAT", Body: "Our invoice 2024-118 charges 21% VAT instead of 19%.",
		Customer: "Globex", Channel: "email"}
}

// assertWellFormed checks what any routing result must hold, whatever the
// model wrote: values from the fixed lists, the route the table gives, and a
// record of each model call.
func assertWellFormed(t *testing.T, res workflows.TicketRoutingResult) {
	t.Helper()
	c := res.Classification
	assert.Contains(t, workflows.TicketCategories, c.Category)
	assert.Contains(t, workflows.TicketPriorities, c.Priority)
	assert.Contains(t, workflows.TicketSentiments, c.Sentiment)
	assert.Contains(t, workflows.TicketLanguages, c.Language)
	assert.NotEmpty(t, c.Summary)
	assert.Equal(t, workflows.RouteFor(c.Category, c.Priority), res.Route)
	assert.NotEmpty(t, res.DraftReply)
	if res.ClassifiedBy == "model" {
		require.Len(t, res.ModelCalls, 2)
	} else {
		assert.Equal(t, workflows.TriageQueue, res.Route.Queue)
		require.Len(t, res.ModelCalls, 1)
	}
	for _, call := range res.ModelCalls {
		assert.NotEmpty(t, call.Model)
		assert.True(t, len(call.Digest) > 10, "the call records the model digest")
		assert.Positive(t, call.PromptTokens)
		assert.Positive(t, call.OutputTokens)
		assert.Positive(t, call.TotalDuration)
	}
}

// history returns a run's events, in order.
func history(t testing.TB, c client.Client, workflowID, runID string) []*historypb.HistoryEvent {
	t.Helper()
	var events []*historypb.HistoryEvent
	iter := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		events = append(events, ev)
	}
	return events
}

// scheduledActivities lists the activity types a run scheduled, in order.
func scheduledActivities(t *testing.T, c client.Client, workflowID, runID string) []string {
	t.Helper()
	var names []string
	for _, ev := range history(t, c, workflowID, runID) {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			names = append(names, a.GetActivityType().GetName())
		}
	}
	return names
}

// localActivities lists the local activities a run recorded as markers.
func localActivities(t *testing.T, c client.Client, workflowID, runID string) []string {
	t.Helper()
	var names []string
	for _, ev := range history(t, c, workflowID, runID) {
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil {
			if p := m.GetDetails()["data"]; p != nil && len(p.GetPayloads()) > 0 {
				var data struct {
					ActivityType string
				}
				_ = json.Unmarshal(p.GetPayloads()[0].GetData(), &data)
				names = append(names, data.ActivityType)
			}
		}
	}
	return slices.Compact(names)
}

// recordHistory writes a run's history as JSON, the format the replay test
// and `temporal workflow show --output json` use.
func recordHistory(t *testing.T, c client.Client, workflowID, runID, path string) {
	t.Helper()
	hist := &historypb.History{Events: history(t, c, workflowID, runID)}
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(hist)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}
