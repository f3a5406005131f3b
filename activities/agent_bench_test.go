package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/schema"
)

// BenchmarkDecideParts times an agent step's model activity and each of its
// parts on an instant scripted model over HTTP and a real SQLite store, at a
// transcript of 10, 30 and 60 turns: the whole Decide; appending the new
// turn and reading the transcript back; building the prompt; the decision
// schema for the allowed tools and the answer's validation against it; the
// redaction of the prompt under the built-in data policy, the first time and
// with every line seen before (as at an agent's next step); and the model
// call alone (guard, redaction, the HTTP exchange, validation). The model
// redacts as a worker on the built-in policy does.
// Each step appends a turn the store already has (its key makes the write
// a no-op), so the transcript keeps its length while the statement runs.
//
//	go test ./activities -run '^$' -bench DecideParts
func BenchmarkDecideParts(b *testing.B) {
	const answer = `{"thought":"check the order","action":{"tool":"lookup_order","args":{"orderId":"O-20931"}}}`
	for _, turns := range []int{10, 30, 60} {
		b.Run(fmt.Sprintf("turns=%d", turns), func(b *testing.B) {
			ctx := context.Background()
			f := newFakeOllama(b)
			f.always = answer
			a := testAgent(b, f)
			snap, err := policy.Load("", nil)
			require.NoError(b, err)
			redactor, err := snap.Policy.Redactor()
			require.NoError(b, err)
			a.Model.Redaction = &Redaction{Redactor: redactor, Store: a.Store}
			step := 0
			newTurn := func() []Turn {
				return []Turn{{Step: step, Kind: "tool", Tool: "lookup_order", Args: json.RawMessage(`{"orderId":"O-20931"}`),
					Observation: "order O-20931 of customer C-100 (ann@example.com): Desk lamp, 59.00 EUR, status: shipped, tracking stalled 6 days"}}
			}
			for range turns {
				step++
				require.NoError(b, a.appendTurns(ctx, "agent-1", newTurn()))
			}
			req := DecideRequest{RunKey: "agent-1", Model: "tiny", Mode: "json", Allowed: []string{"lookup_order", "issue_refund"}}
			frame, summary, all, err := a.transcript(ctx, "agent-1")
			require.NoError(b, err)
			allowed := allowedSpecs(frame.Tools, req.Allowed)
			messages := []Message{{Role: "system", Content: systemPrompt(frame, "json")},
				{Role: "user", Content: userPrompt(frame, summary, all) + stepTail(frame.Tools, req.Allowed)}}

			b.Run("whole", func(b *testing.B) {
				for b.Loop() {
					req.NewTurns = newTurn()
					_, err := a.Decide(ctx, req)
					require.NoError(b, err)
				}
			})
			b.Run("transcript", func(b *testing.B) {
				for b.Loop() {
					require.NoError(b, a.appendTurns(ctx, "agent-1", newTurn()))
					_, _, _, err := a.transcript(ctx, "agent-1")
					require.NoError(b, err)
				}
			})
			b.Run("prompt", func(b *testing.B) {
				for b.Loop() {
					_ = systemPrompt(frame, "json") + userPrompt(frame, summary, all) + stepTail(frame.Tools, req.Allowed)
				}
			})
			b.Run("schema", func(b *testing.B) {
				for b.Loop() {
					require.NoError(b, schema.Validate(decisionSchema(allowed), json.RawMessage(answer)))
				}
			})
			redact := func(r *Redaction) {
				_, err := r.begin(ctx).messages(messages)
				require.NoError(b, err)
			}
			b.Run("redaction first time", func(b *testing.B) {
				for b.Loop() {
					redact(&Redaction{Redactor: redactor, Store: a.Store})
				}
			})
			b.Run("redaction lines seen", func(b *testing.B) {
				for b.Loop() {
					redact(a.Model.Redaction)
				}
			})
			b.Run("model call", func(b *testing.B) {
				for b.Loop() {
					_, err := a.Model.Chat(ctx, ChatRequest{Purpose: "agent step", Model: "tiny", Messages: messages,
						Schema: decisionSchema(allowed), Options: ModelOptions{MaxTokens: 600, ContextSize: DefaultContextSize}})
					require.NoError(b, err)
				}
			})
		})
	}
}
