package activities

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/store/storetest"
)

func testAgent(t testing.TB, f *fakeOllama) *Agent {
	a := &Agent{Model: newTestModel(t, f), Store: seededStore(t)}
	require.NoError(t, a.Store.SaveAgentFrame(context.Background(), AgentFrame{RunKey: "agent-1", Goal: "Where is order O-20931?",
		Profile: "customer-service", Instructions: "You help customers.",
		Tools: []ToolSpec{{Name: "lookup_order", Description: "Read an order.", Args: LookupOrderSchema},
			{Name: "issue_refund", Description: "Refund.", Args: IssueRefundSchema}}}))
	return a
}

func TestDecideJSONMode(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: `{"thought":"check the order","action":{"tool":"lookup_order","args":{"orderId":"O-20931"}}}`})
	a := testAgent(t, f)
	res, err := a.Decide(context.Background(), DecideRequest{RunKey: "agent-1", Model: "tiny", Mode: "json", Allowed: []string{"lookup_order"},
		NewTurns: []Turn{{Step: 1, Kind: "message", From: "alice", Observation: "the customer called twice"}}})
	require.NoError(t, err)
	assert.Equal(t, "lookup_order", res.Tool)
	assert.JSONEq(t, `{"orderId":"O-20931"}`, string(res.Args))
	assert.Equal(t, 11, res.Call.PromptTokens)

	sent := f.chats[0]
	format, _ := json.Marshal(sent["format"])
	assert.Contains(t, string(format), `"enum":["lookup_order"]`, "each allowed tool is a branch")
	assert.Contains(t, string(format), `"enum":["finish"]`, "and finish")
	assert.NotContains(t, string(format), "issue_refund", "a tool outside the allowlist is not in the schema")
	msgs := sent["messages"].([]any)
	system := msgs[0].(map[string]any)["content"].(string)
	assert.Contains(t, system, "- lookup_order: Read an order.")
	assert.Contains(t, system, "- issue_refund: Refund.", "the system prompt is the run's whole catalogue, the same at every step")
	user := msgs[1].(map[string]any)["content"].(string)
	assert.True(t, strings.HasSuffix(user, "\nUsed up, not available any more: issue_refund.\nWhat is the next step?"), user)
	assert.Contains(t, user, "Goal: Where is order O-20931?")
	assert.Contains(t, user, "Step 1: message from alice: the customer called twice")

	// The next decision sends only the new turn; the store holds the rest.
	f.answers = append(f.answers, fakeAnswer{body: `{"thought":"done","action":{"tool":"finish","args":{"answer":"shipped","sources":["O-20931"]}}}`})
	_, err = a.Decide(context.Background(), DecideRequest{RunKey: "agent-1", Model: "tiny", Allowed: []string{"lookup_order"},
		NewTurns: []Turn{{Step: 2, Kind: "tool", Tool: "lookup_order", Args: json.RawMessage(`{"orderId":"O-20931"}`), Observation: "shipped"}}})
	require.NoError(t, err)
	user = f.chats[1]["messages"].([]any)[1].(map[string]any)["content"].(string)
	assert.Contains(t, user, "Step 1: message from alice")
	assert.Contains(t, user, `Step 2: lookup_order {"orderId":"O-20931"} → shipped`)
	assert.Equal(t, 2, storetest.Int(t, a.Store.Records, `SELECT count(*) FROM agent_turns WHERE run_key = 'agent-1'`))
}

func TestDecideAsksForCompactionWhenThePromptWouldNotFit(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	a := testAgent(t, f)
	var turns []Turn
	for i := 1; i <= 30; i++ {
		turns = append(turns, Turn{Step: i, Kind: "tool", Tool: "lookup_order", Args: json.RawMessage(`{"orderId":"O-20931"}`),
			Observation: strings.Repeat("observation ", 20)})
	}
	res, err := a.Decide(context.Background(), DecideRequest{RunKey: "agent-1", Model: "tiny", ContextSize: 1024, Allowed: []string{"lookup_order"}, NewTurns: turns})
	require.NoError(t, err)
	assert.True(t, res.NeedsCompaction)
	assert.Greater(t, res.PromptTokens, 768)
	assert.Empty(t, f.chats, "no model call is made")

	f.answers = append(f.answers, fakeAnswer{body: `{"summary":"looked up O-20931 thirty times; it is shipped"}`})
	c, err := a.Compact(context.Background(), CompactRequest{RunKey: "agent-1", Model: "tiny", Keep: 4})
	require.NoError(t, err)
	assert.Equal(t, "looked up O-20931 thirty times; it is shipped", c.Summary)
	assert.Equal(t, 26, c.UpTo)

	f.answers = append(f.answers, fakeAnswer{body: `{"thought":"t","action":{"tool":"finish","args":{"answer":"a","sources":[]}}}`})
	res, err = a.Decide(context.Background(), DecideRequest{RunKey: "agent-1", Model: "tiny", ContextSize: 1024, Allowed: []string{"lookup_order"}})
	require.NoError(t, err)
	assert.False(t, res.NeedsCompaction, "the summary and four turns fit")
	user := f.chats[1]["messages"].([]any)[1].(map[string]any)["content"].(string)
	assert.Contains(t, user, "Summary of the earlier steps: looked up O-20931 thirty times")
	assert.NotContains(t, user, "Step 26:")
	assert.Contains(t, user, "Step 27:")
}

// TestDecideToolsMode speaks Ollama's native tool calling: the catalogue
// goes out as tools, and the reply's tool call comes back as the decision.
func TestDecideToolsMode(t *testing.T) {
	t.Parallel()
	var got map[string]any
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/tags":
			w.Write([]byte(`{"models":[]}`))
		case "/api/chat":
			require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
			w.Write([]byte(`{"model":"tiny","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"lookup_order","arguments":{"orderId":"O-20931"}}}]},"done":true,"prompt_eval_count":40,"eval_count":9}`))
		}
	}))
	defer server.Close()
	m, err := NewModel(server.URL, 0)
	require.NoError(t, err)
	m.timeout = 5e9
	a := &Agent{Model: m, Store: seededStore(t)}
	require.NoError(t, a.Store.SaveAgentFrame(context.Background(), AgentFrame{RunKey: "r", Goal: "g", Instructions: "i",
		Tools: []ToolSpec{{Name: "lookup_order", Description: "Read an order.", Args: LookupOrderSchema}}}))
	res, err := a.Decide(context.Background(), DecideRequest{RunKey: "r", Model: "tiny", Mode: "tools", Allowed: []string{"lookup_order"}})
	require.NoError(t, err)
	assert.Equal(t, "lookup_order", res.Tool)
	assert.JSONEq(t, `{"orderId":"O-20931"}`, string(res.Args))
	assert.Equal(t, 40, res.Call.PromptTokens)
	tools := got["tools"].([]any)
	require.Len(t, tools, 2)
	assert.Equal(t, "lookup_order", tools[0].(map[string]any)["function"].(map[string]any)["name"])
	assert.Equal(t, "finish", tools[1].(map[string]any)["function"].(map[string]any)["name"])
	assert.Nil(t, got["format"])
}

// TestEachStepsPromptBeginsWithThePreviousOnes runs 30 agent steps and
// measures how much of each step's prompt the next one begins with: what a
// model server's prompt cache can reuse. Only the tail (the question, and
// a tool that ran out of calls at step 20) may differ.
func TestEachStepsPromptBeginsWithThePreviousOnes(t *testing.T) {
	t.Parallel()
	const steps = 30
	answers := make([]fakeAnswer, steps)
	for i := range answers {
		answers[i] = fakeAnswer{body: `{"thought":"look","action":{"tool":"lookup_order","args":{"orderId":"O-20931"}}}`}
	}
	f := newFakeOllama(t, answers...)
	a := testAgent(t, f)
	allowed := []string{"lookup_order", "issue_refund"}
	var prompts []string
	for step := 1; step <= steps; step++ {
		if step == 20 {
			allowed = []string{"lookup_order"}
		}
		var turns []Turn
		if step > 1 {
			turns = []Turn{{Step: step - 1, Kind: "tool", Tool: "lookup_order", Args: json.RawMessage(`{"orderId":"O-20931"}`),
				Observation: strings.Repeat("order O-20931 shipped on day ", step%4+1)}}
		}
		_, err := a.Decide(context.Background(), DecideRequest{RunKey: "agent-1", Model: "tiny", Mode: "json", Allowed: allowed, NewTurns: turns})
		require.NoError(t, err)
		msgs := f.chats[step-1]["messages"].([]any)
		prompts = append(prompts, msgs[0].(map[string]any)["content"].(string)+"\n"+msgs[1].(map[string]any)["content"].(string))
	}
	lowest, sum := 1.0, 0.0
	for i := 0; i+1 < len(prompts); i++ {
		shared := 0
		for shared < len(prompts[i]) && shared < len(prompts[i+1]) && prompts[i][shared] == prompts[i+1][shared] {
			shared++
		}
		share := float64(shared) / float64(len(prompts[i]))
		lowest, sum = min(lowest, share), sum+share
		assert.GreaterOrEqual(t, share, 0.95, "step %d's prompt begins with %.1f%% of step %d's", i+2, 100*share, i+1)
	}
	t.Logf("prompt prefix shared with the next step over %d steps: lowest %.2f%%, mean %.2f%%", steps, 100*lowest, 100*sum/float64(steps-1))
}
