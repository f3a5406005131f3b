package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
)

// BenchmarkAgentPromptCache runs 30 agent steps against the real Ollama
// server with the test model, each step adding a tool turn to the
// transcript, and prints what each step's prompt cost the server:
// prompt_eval_count and prompt_eval_duration, beside the size of the whole
// prompt. Beside each step it sends the same prompt with a step counter at
// its top, as a prompt that changes near its start each step would be, so
// that the server cannot reuse its cache: the difference in
// prompt_eval_duration is what the layout buys. The counter's prompts are
// sent after the agent's 30 steps, not between them: the server gives a
// prompt that shares nothing with any cache slot the slot with the longest
// common prefix, even of one token, so an unrelated prompt between two
// steps would take the agent's slot. (Ollama 0.6.5 counts the whole prompt
// in prompt_eval_count, cached or not.) The test model's own template is
// `{{ .Prompt }}`, which drops the system message, so the benchmark runs
// it under a chat template that renders every message, as a real model's
// does.
//
//	go test ./e2e -run '^$' -bench BenchmarkAgentPromptCache -benchtime 1x
func BenchmarkAgentPromptCache(b *testing.B) {
	s := testenv.Start(b)
	chatModel := withChatTemplate(b, s)
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
		var decided []activities.DecideResult
		for step := 1; step <= 30; step++ {
			var turns []activities.Turn
			if step > 1 {
				turns = []activities.Turn{{Step: step - 1, Kind: "tool", Tool: "lookup_order", Args: json.RawMessage(`{"orderId":"O-20931"}`),
					Observation: strings.Repeat("order O-20931 of customer C-100: headphones, 59.00 EUR, shipped. ", 2)}}
			}
			res, err := agent.Decide(ctx, activities.DecideRequest{RunKey: runKey, Model: chatModel, Mode: "json", ContextSize: 8192,
				Allowed: []string{"lookup_order", "calculate"}, NewTurns: turns})
			require.NoError(b, err)
			decided = append(decided, res)
		}
		fmt.Fprintf(os.Stdout, "step  prompt tokens (estimate)  prompt_eval_count  prompt_eval_duration  with a step counter on top\n")
		for i, res := range decided {
			uncached := promptEvalWithCounter(b, s, chatModel, i+1, turnsSoFar(i+1))
			fmt.Fprintf(os.Stdout, "%4d  %24d  %17d  %20s  %s\n", i+1, res.PromptTokens, res.Call.PromptTokens,
				res.Call.PromptDuration.Round(time.Microsecond), uncached.Round(time.Microsecond))
		}
	}
}

// turnsSoFar is the transcript the benchmark's agent has at a step.
func turnsSoFar(step int) string {
	var b strings.Builder
	for i := 1; i < step; i++ {
		fmt.Fprintf(&b, "Step %d: lookup_order {\"orderId\":\"O-20931\"} → %s\n", i,
			strings.Repeat("order O-20931 of customer C-100: headphones, 59.00 EUR, shipped. ", 2))
	}
	return b.String()
}

// chatTemplate renders every message, the system message first, as the
// chat templates of real models do.
const chatTemplate = `{{ range .Messages }}<|{{ .Role }}|>
{{ .Content }}
{{ end }}<|assistant|>
`

// withChatTemplate creates, on the test server, the test model under
// chatTemplate, and returns its name.
func withChatTemplate(b *testing.B, s *testenv.Servers) string {
	name := s.Model + "-chat"
	require.NoError(b, s.CreateModel(context.Background(), &api.CreateRequest{Model: name, From: s.Model, Template: chatTemplate}))
	return name
}

// promptEvalWithCounter sends a prompt of the agent's shape whose first
// line names the step, and returns its prompt_eval_duration.
func promptEvalWithCounter(b *testing.B, s *testenv.Servers, model string, step int, transcript string) time.Duration {
	u, err := url.Parse(s.OllamaHost)
	require.NoError(b, err)
	var took time.Duration
	stream := false
	err = api.NewClient(u, http.DefaultClient).Chat(context.Background(), &api.ChatRequest{Model: model, Stream: &stream,
		Messages: []api.Message{{Role: "system", Content: fmt.Sprintf("Step %d of 30. You help customers. Check the order, then answer.", step)},
			{Role: "user", Content: "Goal: Where is order O-20931?\n\nSteps so far:\n" + transcript + "\nWhat is the next step?"}},
		Options: map[string]any{"num_predict": 1, "num_ctx": 8192, "temperature": 0.0}}, func(r api.ChatResponse) error {
		took = r.PromptEvalDuration
		return nil
	})
	require.NoError(b, err)
	return took
}
