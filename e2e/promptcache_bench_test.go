package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
)

// BenchmarkAgentPromptCache runs 30 agent steps against the real Ollama
// server with the test model, each step adding a tool turn to the
// transcript, and prints what each step's prompt cost the server:
// prompt_eval_count (the tokens it evaluated) and prompt_eval_duration,
// beside the size of the whole prompt. With a prompt that begins with the
// previous step's, the evaluated tokens stay flat while the prompt grows.
//
//	go test ./e2e -run '^$' -bench BenchmarkAgentPromptCache -benchtime 1x
func BenchmarkAgentPromptCache(b *testing.B) {
	s := testenv.Start(b)
	model, err := activities.NewModel(s.OllamaHost, 5*time.Minute)
	require.NoError(b, err)
	model.KeepAlive = 30 * time.Minute
	store := &activities.Store{Records: storetest.Open(b, storetest.Setting(b))}
	agent := &activities.Agent{Model: model, Store: store}
	ctx := context.Background()
	for i := range b.N {
		runKey := fmt.Sprintf("agent-cache-%d-%d", time.Now().UnixNano(), i)
		require.NoError(b, store.SaveAgentFrame(ctx, activities.AgentFrame{RunKey: runKey, Goal: "Where is order O-20931, and what does the customer get back?",
			Profile: "customer-service", Instructions: "You help customers. Check the order, then answer.",
			Tools: []activities.ToolSpec{{Name: "lookup_order", Description: "Read an order.", Args: activities.LookupOrderSchema},
				{Name: "calculate", Description: "Evaluate arithmetic exactly.", Args: activities.CalculateSchema}}}))
		fmt.Fprintf(os.Stdout, "step  prompt tokens (estimate)  evaluated (prompt_eval_count)  prompt_eval_duration\n")
		for step := 1; step <= 30; step++ {
			var turns []activities.Turn
			if step > 1 {
				turns = []activities.Turn{{Step: step - 1, Kind: "tool", Tool: "lookup_order", Args: json.RawMessage(`{"orderId":"O-20931"}`),
					Observation: strings.Repeat("order O-20931 of customer C-100: headphones, 59.00 EUR, shipped. ", 2)}}
			}
			res, err := agent.Decide(ctx, activities.DecideRequest{RunKey: runKey, Model: s.Model, Mode: "json", ContextSize: 8192,
				Allowed: []string{"lookup_order", "calculate"}, NewTurns: turns})
			require.NoError(b, err)
			fmt.Fprintf(os.Stdout, "%4d  %24d  %29d  %s\n", step, res.PromptTokens, res.Call.PromptTokens, res.Call.PromptDuration.Round(time.Microsecond))
		}
	}
}
