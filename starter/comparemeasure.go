package main

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// Measure is what one run cost and decided, read from its history and its
// child workflows' histories.
type Measure struct {
	WorkflowID   string        `json:"workflowId"`
	Outcome      string        `json:"outcome"`
	Failed       string        `json:"failed,omitempty"`
	Steps        int           `json:"steps"` // activities, local activities and child workflows
	ModelCalls   int           `json:"modelCalls"`
	Tokens       int           `json:"tokens"` // prompt plus output
	Wall         time.Duration `json:"wall"`
	Decisions    int           `json:"decisions"` // people's decisions
	Approved     int           `json:"approved"`
	Rejected     int           `json:"rejected"`
	Denied       int           `json:"denied"` // tool calls the policy refused
	HistoryBytes int           `json:"historyBytes"`
	Events       int           `json:"events"`
}

// measureRun reads one finished run (and its children) from history.
func measureRun(ctx context.Context, c client.Client, dec payloadDecoder, id, runID string, outcome func(json.RawMessage) string) (Measure, error) {
	m := Measure{WorkflowID: id}
	scheduled := map[int64]string{}
	var first, last time.Time
	err := walkHistory(ctx, c, id, runID, func(ev historyEvent) {
		m.Events++
		m.HistoryBytes += proto.Size(ev.HistoryEvent)
		if ev.depth == 0 {
			if first.IsZero() {
				first = ev.GetEventTime().AsTime()
			}
			last = ev.GetEventTime().AsTime()
		}
		switch {
		case ev.GetActivityTaskScheduledEventAttributes() != nil:
			m.Steps++
			scheduled[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
		case ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity",
			ev.GetStartChildWorkflowExecutionInitiatedEventAttributes() != nil:
			m.Steps++
		case ev.GetActivityTaskCompletedEventAttributes() != nil:
			a := ev.GetActivityTaskCompletedEventAttributes()
			if !modelActivities[scheduled[a.GetScheduledEventId()]] {
				break
			}
			var res struct {
				Call struct {
					Model                      string
					PromptTokens, OutputTokens int
				} `json:"call"`
			}
			if json.Unmarshal(dec.first(a.GetResult()), &res) == nil && res.Call.Model != "" {
				m.ModelCalls++
				m.Tokens += res.Call.PromptTokens + res.Call.OutputTokens
			}
		case ev.GetWorkflowExecutionUpdateAcceptedEventAttributes() != nil:
			req := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput()
			var d runs.Decision
			if req.GetName() == runs.DecisionUpdate && json.Unmarshal(dec.first(req.GetArgs()), &d) == nil {
				m.Decisions++
				if d.Approve {
					m.Approved++
				} else {
					m.Rejected++
				}
			}
		case ev.depth == 0 && ev.GetWorkflowExecutionCompletedEventAttributes() != nil:
			raw := dec.first(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult())
			m.Outcome = outcome(raw)
			var agent workflows.AgentResult
			if json.Unmarshal(raw, &agent) == nil {
				m.Denied = len(slices.DeleteFunc(agent.Events, func(e workflows.PolicyEvent) bool { return e.Kind != "denied" }))
			}
		}
	})
	m.Wall = last.Sub(first)
	return m, err
}
