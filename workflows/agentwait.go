package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/schema"
)

// RunWait marks the tools that sleep durably, in workflow code: wait and
// wait_for_event. A sleeping run holds no worker; it wakes on a timer or
// when an event or a message arrives.
const RunWait ToolRun = "wait"

// Arguments of the waiting tools.
type (
	// WaitArgs sleeps for a while; any event or message wakes the agent early.
	WaitArgs struct {
		Duration string `json:"duration"`
		Reason   string `json:"reason"`
	}
	// WaitForEventArgs sleeps until an event of a name arrives, or the
	// timeout passes.
	WaitForEventArgs struct {
		Event   string `json:"event"`
		Timeout string `json:"timeout"`
	}
)

var (
	waitSchema = schema.Object(
		schema.Prop("duration", schema.String("how long, like 30m, 6h or 3d", 10)),
		schema.Prop("reason", schema.String("what you are waiting for", 200)))
	waitForEventSchema = schema.Object(
		schema.Prop("event", schema.String("the event's name, such as campaign-results", 60)),
		schema.Prop("timeout", schema.String("how long at most, like 6h or 7d", 10)))
)

// waitTools sleep durably.
var waitTools = []Tool{
	{Name: "wait", Description: "Sleep for a while (minutes to weeks) and hold nothing meanwhile; any event or message wakes you early.",
		Args: waitSchema, Risk: RiskRead, Run: RunWait},
	{Name: "wait_for_event", Description: "Sleep until an event of this name arrives from another system, or the timeout passes.",
		Args: waitForEventSchema, Risk: RiskRead, Run: RunWait},
}

// sleep runs a waiting tool: it sleeps until its time is up, or (wait) any
// event or message arrives that the model has not seen, or (wait_for_event)
// an event of its name does. While it sleeps the run's status and its
// TandemSleepingUntil search attribute say until when. A wait longer than
// the data policy's maxWait, or than what is left of the run's deadline, is
// shortened, and the observation says so.
func (st *AgentState) sleep(ctx workflow.Context, d *decisions, tool Tool, args []byte) (activities.ToolResult, error) {
	var event, length, why string
	if tool.Name == "wait_for_event" {
		var a WaitForEventArgs
		if err := decodeArgs(args, &a); err != nil {
			return activities.ToolResult{}, err
		}
		event, length, why = strings.TrimSpace(a.Event), a.Timeout, "the event "+strings.TrimSpace(a.Event)
	} else {
		var a WaitArgs
		if err := decodeArgs(args, &a); err != nil {
			return activities.ToolResult{}, err
		}
		length, why = a.Duration, a.Reason
	}
	dur, err := policy.ParseDuration(strings.TrimSpace(length))
	if err != nil || dur <= 0 {
		return activities.ToolResult{Observation: fmt.Sprintf("%q is not a duration; write it like 30m, 6h or 3d", length)}, nil
	}
	wanted, note := time.Duration(dur), ""
	slept := wanted
	if longest := runPolicy(ctx).Agent.LongestWait(); slept > longest {
		slept, note = longest, fmt.Sprintf(" (%s asked; the data policy's longest wait is %s)", wanted, longest)
	}
	now := workflow.Now(ctx).UTC()
	if left := st.Policy.Deadline - now.Sub(st.StartedAt); slept > left {
		slept, note = max(left, 0), fmt.Sprintf(" (%s asked; the run's deadline leaves %s)", wanted, max(left, 0).Round(time.Second))
	}
	until := now.Add(slept)
	d.status.SleepingUntil = &until
	d.stepWith(ctx, "sleeping", fmt.Sprintf("Sleeping until %s: %s", until.Format("2006-01-02 15:04:05 MST"), why), SleepingUntilKey.ValueSet(until))
	arrived := func() (AgentEvent, bool) {
		for _, e := range st.Arrivals {
			if event == "" || e.Name == event {
				return e, true
			}
		}
		return AgentEvent{}, false
	}
	woken, err := workflow.AwaitWithTimeout(ctx, slept, func() bool { _, ok := arrived(); return ok })
	d.status.SleepingUntil = nil
	d.stepWith(ctx, "running", "Awake after "+workflow.Now(ctx).UTC().Sub(now).Round(time.Second).String(), SleepingUntilKey.ValueUnset())
	if err != nil {
		return activities.ToolResult{}, err
	}
	after := workflow.Now(ctx).UTC().Sub(now).Round(time.Second)
	switch e, _ := arrived(); {
	case !woken && event != "":
		return activities.ToolResult{Observation: fmt.Sprintf("no %s event came within %s%s", event, slept, note)}, nil
	case !woken:
		return activities.ToolResult{Observation: fmt.Sprintf("slept %s%s", slept, note)}, nil
	case event != "":
		return activities.ToolResult{Observation: fmt.Sprintf("event %s from %s arrived after %s: %s", e.Name, e.From, after, e.Data)}, nil
	default:
		return activities.ToolResult{Observation: fmt.Sprintf("woken after %s by %s from %s (see the step after this one)", after, e.Name, e.From)}, nil
	}
}

// arrive records an event or a message for the model's next prompt, and
// for a sleeping agent to wake on.
func (st *AgentState) arrive(e AgentEvent, t activities.Turn) int {
	st.Turn++
	t.Step = st.Turn
	st.Pending = append(st.Pending, t)
	st.remember(t)
	st.Arrivals = append(st.Arrivals, e)
	return st.Turn
}

// checkEvent refuses, with a sentence, an event no agent should take.
func checkEvent(e AgentEvent) error {
	switch {
	case strings.TrimSpace(e.Name) == "" || len(e.Name) > 60 || strings.ContainsAny(e.Name, " \t\n"):
		return fmt.Errorf("name the event in one word of at most 60 characters, such as campaign-results")
	case strings.TrimSpace(e.From) == "":
		return fmt.Errorf("say who delivers the event (from)")
	case len(e.Data) > activities.MaxObservation:
		return fmt.Errorf("the event's data is %d characters; keep it under %d, or store it and send a reference", len(e.Data), activities.MaxObservation)
	case e.Name == activities.CampaignResultsEvent:
		// Decoding JSON is deterministic; see decodeAnswer.
		//workflowcheck:ignore
		_, err := activities.ParseCampaignResults(e.Data)
		return err
	}
	return nil
}

// recordCampaignResults keeps the results a campaign-results event
// delivers in the store before the agent hears of them, and says what it
// kept; results the store refuses (an unknown campaign or content) refuse
// the event.
func recordCampaignResults(ctx workflow.Context, e AgentEvent) (string, error) {
	var store *activities.Store
	var kept string
	err := workflow.ExecuteActivity(withStore(ctx, "record the campaign's results"), store.RecordCampaignResults, e.From, e.Data).Get(ctx, &kept)
	return kept, err
}
