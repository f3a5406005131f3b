package main

import (
	"context"
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/tandemhq/tandem/internal/codec"
)

// historyEvent is one event of a run's history, with how deep the run sits
// below the one asked about (0 for it, 1 for its child workflows, ...).
type historyEvent struct {
	*historypb.HistoryEvent
	depth int
}

// walkHistory calls fn for every event of the run chain that starts at
// (id, runID), following continue-as-new, and then of every child workflow
// the chain started, recursively.
func walkHistory(ctx context.Context, c client.Client, id, runID string, fn func(historyEvent)) error {
	return walkChain(ctx, c, id, runID, 0, fn)
}

func walkChain(ctx context.Context, c client.Client, id, runID string, depth int, fn func(historyEvent)) error {
	type child struct{ id, runID string }
	var children []child
	for {
		next := ""
		iter := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return fmt.Errorf("read the history of %s: %w", id, err)
			}
			fn(historyEvent{ev, depth})
			if a := ev.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				children = append(children, child{a.GetWorkflowExecution().GetWorkflowId(), a.GetWorkflowExecution().GetRunId()})
			}
			if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				next = a.GetNewExecutionRunId()
			}
		}
		if next == "" {
			break
		}
		runID = next
	}
	for _, ch := range children {
		if err := walkChain(ctx, c, ch.id, ch.runID, depth+1, fn); err != nil {
			return err
		}
	}
	return nil
}

// payloadDecoder decodes the payloads of histories, with the codec keys
// when payloads are encrypted.
type payloadDecoder struct{ dc converter.DataConverter }

func newPayloadDecoder() (payloadDecoder, error) {
	keys, err := codec.LoadKeys()
	if err != nil {
		return payloadDecoder{}, err
	}
	if keys != nil {
		return payloadDecoder{keys.DataConverter()}, nil
	}
	return payloadDecoder{converter.GetDefaultDataConverter()}, nil
}

// first returns the first payload as JSON, or a JSON string saying why it
// cannot be decoded.
func (d payloadDecoder) first(p *commonpb.Payloads) json.RawMessage {
	if p == nil || len(p.GetPayloads()) == 0 {
		return nil
	}
	var raw json.RawMessage
	if err := d.dc.FromPayload(p.GetPayloads()[0], &raw); err != nil {
		return json.RawMessage(fmt.Sprintf("%q", "cannot decode: "+err.Error()))
	}
	return raw
}

// modelActivities are the activity types whose results record a model call.
var modelActivities = map[string]bool{"Chat": true, "Decide": true, "Compact": true, "Embed": true}
