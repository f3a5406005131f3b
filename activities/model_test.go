package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/internal/schema"
)

// fakeOllama speaks Ollama's wire format (/api/chat as NDJSON stream,
// /api/tags, /api/embed) with scripted answers, one per chat request.
type fakeOllama struct {
	t       testing.TB
	mu      sync.Mutex
	answers []fakeAnswer
	chats   []map[string]any // the requests it received
	embeds  []string         // the texts it was asked to embed
	server  *httptest.Server
	// toolCall, when set, is the function call every non-streamed answer
	// makes (native tool calling).
	toolCall string
	// always, when set, answers every chat request once the scripted
	// answers are used up.
	always string
	// inFlight and mostInFlight count the chat requests it is answering.
	inFlight, mostInFlight int
}

type fakeAnswer struct {
	status int           // HTTP status; 0 means 200
	body   string        // content (200) or error message
	delay  time.Duration // wait before answering
	cutOff bool          // the stream ends after the first chunk, without done
}

func newFakeOllama(t testing.TB, answers ...fakeAnswer) *fakeOllama {
	f := &fakeOllama{t: t, answers: answers}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat", f.chat)
	mux.HandleFunc("GET /api/tags", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"models":[{"name":"tiny:latest","model":"tiny:latest","digest":"sha256:abc123def456"}]}`))
	})
	mux.HandleFunc("POST /api/embed", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.embeds = append(f.embeds, req.Input...)
		f.mu.Unlock()
		_, _ = w.Write([]byte(`{"model":"tiny","embeddings":[[0.1,0.2],[0.3,0.4]],"prompt_eval_count":6}`))
	})
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeOllama) chat(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	require.NoError(f.t, json.NewDecoder(r.Body).Decode(&req))
	f.mu.Lock()
	f.chats = append(f.chats, req)
	if len(f.answers) == 0 && f.always != "" {
		f.answers = append(f.answers, fakeAnswer{body: f.always})
	}
	if len(f.answers) == 0 {
		f.mu.Unlock()
		http.Error(w, `{"error":"no scripted answer left"}`, http.StatusInternalServerError)
		return
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	f.inFlight++
	f.mostInFlight = max(f.mostInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()

	select {
	case <-time.After(a.delay):
	case <-r.Context().Done():
		return
	}
	if a.status != 0 && a.status != http.StatusOK {
		w.WriteHeader(a.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": a.body})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	if f.toolCall != "" {
		_ = enc.Encode(map[string]any{"model": req["model"], "done": true, "prompt_eval_count": 40, "eval_count": 9,
			"message": map[string]any{"role": "assistant", "content": "", "tool_calls": []json.RawMessage{json.RawMessage(`{"function":` + f.toolCall + `}`)}}})
		return
	}
	// Stream the content in two chunks, then the final message with metrics.
	half := len(a.body) / 2
	for _, part := range []string{a.body[:half], a.body[half:]} {
		_ = enc.Encode(map[string]any{"model": req["model"], "message": map[string]string{"role": "assistant", "content": part}, "done": false})
		if a.cutOff {
			return
		}
	}
	_ = enc.Encode(map[string]any{"model": req["model"], "message": map[string]string{"role": "assistant", "content": ""},
		"done": true, "done_reason": "stop", "prompt_eval_count": 11, "eval_count": 7,
		"total_duration": 9000000, "load_duration": 1000000, "prompt_eval_duration": 2000000, "eval_duration": 5000000})
}

var answerSchema = schema.Object(
	schema.Prop("category", schema.Enum("", "billing", "technical")),
	schema.Prop("summary", schema.String("", 40)),
)

func structuredRequest() ChatRequest {
	return ChatRequest{Purpose: "classify", Model: "tiny", Schema: answerSchema,
		Messages: []Message{{Role: "user", Content: "My invoice is wrong"}}}
}

// runChat runs Model.Chat in Temporal's activity test environment.
func runChat(t *testing.T, m *Model, req ChatRequest) (ChatResult, error) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(m)
	val, err := env.ExecuteActivity(m.Chat, req)
	var res ChatResult
	if err == nil {
		require.NoError(t, val.Get(&res))
	}
	return res, err
}

func newTestModel(t testing.TB, f *fakeOllama) *Model {
	m, err := NewModel(f.server.URL, 5*time.Second)
	require.NoError(t, err)
	m.persistFor = 0 // a failing server is reported at once; TestChatWaitsOutAnOutage waits
	return m
}

// runInWorkflow runs a model activity once (no Temporal retry) under a
// heartbeat timeout, and counts its heartbeats.
func runInWorkflow[R any](t *testing.T, activities any, fn any, arg any, heartbeatTimeout time.Duration) (R, []string, error) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(activities)
	var mu sync.Mutex
	var beats []string
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var d any
		_ = details.Get(&d)
		mu.Lock()
		beats = append(beats, fmt.Sprint(d))
		mu.Unlock()
	})
	env.ExecuteWorkflow(func(ctx workflow.Context) (R, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			HeartbeatTimeout:    heartbeatTimeout,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		var res R
		err := workflow.ExecuteActivity(ctx, fn, arg).Get(ctx, &res)
		return res, err
	})
	var res R
	err := env.GetWorkflowError()
	if err == nil {
		require.NoError(t, env.GetWorkflowResult(&res))
	}
	mu.Lock()
	defer mu.Unlock()
	return res, beats, err
}

// TestChatWaitsOutAnOutage: a model server that fails (502) and then is
// busy (503) is waited out inside one attempt, heartbeating why, and the
// call succeeds once the server answers. The SDK sends the first heartbeat
// at once and then the latest every 1.6 s (80% of the heartbeat timeout),
// which falls in the busy wait, from the first retry at 1 s to the second
// at 3 s.
func TestChatWaitsOutAnOutage(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t,
		fakeAnswer{status: 502, body: "bad gateway"},
		fakeAnswer{status: 503, body: "server busy"},
		fakeAnswer{body: `{"category": "billing", "summary": "back"}`})
	m := newTestModel(t, f)
	m.persistFor, m.heartbeat = time.Minute, 50*time.Millisecond
	res, beats, err := runInWorkflow[ChatResult](t, m, m.Chat, structuredRequest(), 2*time.Second)
	require.NoError(t, err)
	assert.JSONEq(t, `{"category":"billing","summary":"back"}`, string(res.Answer))
	assert.Len(t, f.chats, 3)
	assert.Contains(t, strings.Join(beats, "\n"), HeartbeatWaiting+"the Ollama server at "+f.server.URL+" is busy")
}

// applicationError unwraps the activity error into its application error.
func applicationError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %v", err)
	return appErr
}

func TestChatStructuredAnswer(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: `{"category": "billing", "summary": "wrong invoice"}`},
		fakeAnswer{body: `{"category": "billing", "summary": "wrong invoice"}`})
	res, err := runChat(t, newTestModel(t, f), structuredRequest())
	require.NoError(t, err)

	assert.JSONEq(t, `{"category":"billing","summary":"wrong invoice"}`, string(res.Answer))
	assert.Equal(t, ModelCall{Purpose: "classify", Model: "tiny", Digest: "sha256:abc123def456",
		PromptTokens: 11, OutputTokens: 7, LoadDuration: time.Millisecond, PromptDuration: 2 * time.Millisecond,
		EvalDuration: 5 * time.Millisecond, TotalDuration: 9 * time.Millisecond}, res.Call)

	require.Len(t, f.chats, 1)
	sent := f.chats[0]
	assert.Equal(t, "tiny", sent["model"])
	format, _ := json.Marshal(sent["format"])
	assert.JSONEq(t, string(answerSchema), string(format), "the schema goes to Ollama as format")
	opts := sent["options"].(map[string]any)
	assert.Equal(t, 0.0, opts["temperature"], "structured answers are deterministic by default")
	assert.Equal(t, float64(defaultSeed), opts["seed"])
	assert.Equal(t, float64(defaultMaxTokens), opts["num_predict"])
	assert.Nil(t, sent["keep_alive"], "unset, the server's default")

	m := newTestModel(t, f)
	m.KeepAlive = 30 * time.Minute
	_, err = runChat(t, m, structuredRequest())
	require.NoError(t, err)
	assert.Equal(t, "30m0s", f.chats[1]["keep_alive"], "the model stays loaded, with its prompt cache, between calls")
}

func TestChatRepairsAnInvalidAnswer(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t,
		fakeAnswer{body: `{"category": "spam", "summary": "x"`},
		fakeAnswer{body: `{"category": "technical", "summary": "crash"}`})
	res, err := runChat(t, newTestModel(t, f), structuredRequest())
	require.NoError(t, err)

	assert.JSONEq(t, `{"category":"technical","summary":"crash"}`, string(res.Answer))
	assert.Equal(t, 1, res.Call.Repairs)
	assert.Equal(t, 22, res.Call.PromptTokens, "tokens of both tries are counted")
	require.Len(t, f.chats, 2)
	msgs := f.chats[1]["messages"].([]any)
	require.Len(t, msgs, 3, "the repair turn carries the bad answer and the error")
	assert.Contains(t, msgs[2].(map[string]any)["content"], "not JSON")
}

func TestChatGivesUpOnAnAnswerThatNeverValidates(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t,
		fakeAnswer{body: `{"category": "spam", "summary": "x"}`},
		fakeAnswer{body: `{"category": "spam", "summary": "x"}`})
	_, err := runChat(t, newTestModel(t, f), structuredRequest())

	appErr := applicationError(t, err)
	assert.Equal(t, ErrModelInvalidAnswer, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Message(), `model tiny gave no usable answer to "classify" in 2 tries`)
	assert.Contains(t, appErr.Message(), "/category")
	assert.Len(t, f.chats, 2)
}

func TestChatFreeText(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: "Thanks for writing, we are on it."})
	req := structuredRequest()
	req.Schema = nil
	res, err := runChat(t, newTestModel(t, f), req)
	require.NoError(t, err)
	assert.Equal(t, "Thanks for writing, we are on it.", res.Text)
	assert.Nil(t, f.chats[0]["format"])
	assert.Equal(t, 0.7, f.chats[0]["options"].(map[string]any)["temperature"])
}

func TestChatErrorsAreClassified(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		answer       fakeAnswer
		wantType     string
		nonRetryable bool
		wantMessage  string
	}{
		{"model not found", fakeAnswer{status: 404, body: `model "tiny" not found, try pulling it first`},
			ErrModelNotFound, true, "run `ollama pull tiny`"},
		{"server error", fakeAnswer{status: 500, body: "llama runner process has terminated"},
			ErrModelServer, false, "the call will be retried"},
		{"queue full", fakeAnswer{status: 503, body: "server busy, please try again.  maximum pending requests exceeded"},
			ErrModelBusy, false, "is busy"},
		{"bad request", fakeAnswer{status: 400, body: "invalid format"},
			ErrModelBadRequest, true, "refused the call"},
		{"context too long", fakeAnswer{status: 400, body: "input length exceeds maximum context length"},
			ErrModelContextTooLong, true, "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeOllama(t, c.answer)
			_, err := runChat(t, newTestModel(t, f), structuredRequest())
			appErr := applicationError(t, err)
			assert.Equal(t, c.wantType, appErr.Type())
			assert.Equal(t, c.nonRetryable, appErr.NonRetryable())
			assert.Contains(t, appErr.Message(), c.wantMessage)
		})
	}
}

// TestChatAStreamCutOffIsRetried: Ollama stopping in the middle of an
// answer leaves a prefix that can look like JSON; it is an incomplete answer,
// retried, never repaired or taken as the answer.
func TestChatAStreamCutOffIsRetried(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"category": "billing", "summary": "x"}`, `"free text that was cut"`} {
		f := newFakeOllama(t, fakeAnswer{body: body, cutOff: true})
		req := structuredRequest()
		_, err := runChat(t, newTestModel(t, f), req)
		appErr := applicationError(t, err)
		assert.Equal(t, ErrModelCutOff, appErr.Type())
		assert.False(t, appErr.NonRetryable())
		assert.Contains(t, appErr.Message(), "stopped in the middle of an answer")
		assert.Len(t, f.chats, 1, "no repair turn for a cut-off answer")
	}
}

// TestChatWithToolsHeartbeatsWhileTheModelIsSlow: the native tool-calling
// path goes through the same envelope, so a model slower than the heartbeat
// timeout still answers in one attempt.
func TestChatWithToolsHeartbeatsWhileTheModelIsSlow(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	f.toolCall = `{"name":"lookup_order","arguments":{"orderId":"O-20931"}}`
	f.answers = []fakeAnswer{{delay: 1500 * time.Millisecond}}
	m := newTestModel(t, f)
	m.heartbeat = 30 * time.Millisecond
	a := &Agent{Model: m, Store: seededStore(t)}
	require.NoError(t, a.Store.SaveAgentFrame(context.Background(), AgentFrame{RunKey: "r", Goal: "g", Instructions: "i",
		Tools: []ToolSpec{{Name: "lookup_order", Description: "Read an order.", Args: LookupOrderSchema}}}))
	res, beats, err := runInWorkflow[DecideResult](t, a, a.Decide,
		DecideRequest{RunKey: "r", Model: "tiny", Mode: "tools", Allowed: []string{"lookup_order"}}, 500*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, "lookup_order", res.Tool)
	assert.GreaterOrEqual(t, len(beats), 2, "heartbeats while the model thinks")
	assert.Len(t, f.chats, 1, "one attempt")
}

func TestChatServerUnreachable(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	m := newTestModel(t, f)
	f.server.Close()
	_, err := runChat(t, m, structuredRequest())
	appErr := applicationError(t, err)
	assert.Equal(t, ErrModelUnreachable, appErr.Type())
	assert.False(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Message(), "is not answering; start it with `ollama serve` or set OLLAMA_HOST")
}

// TestChatHeartbeatsWhileTheModelIsSlow runs a call whose first token comes
// after 1.2 s under a 400 ms heartbeat timeout: it succeeds only because the
// activity heartbeats while it waits, as it must during a cold model load.
func TestChatHeartbeatsWhileTheModelIsSlow(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: `{"category": "billing", "summary": "slow"}`, delay: 1200 * time.Millisecond})
	m := newTestModel(t, f)
	m.heartbeat = 30 * time.Millisecond

	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(m)
	var beats atomic.Int32
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
	env.ExecuteWorkflow(func(ctx workflow.Context) (ChatResult, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Second,
			HeartbeatTimeout:    400 * time.Millisecond,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		var res ChatResult
		err := workflow.ExecuteActivity(ctx, m.Chat, structuredRequest()).Get(ctx, &res)
		return res, err
	})
	require.NoError(t, env.GetWorkflowError())
	var res ChatResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.JSONEq(t, `{"category":"billing","summary":"slow"}`, string(res.Answer))
	assert.GreaterOrEqual(t, beats.Load(), int32(2), "heartbeats while waiting for the first token")
}

func TestChatTimesOut(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: `{}`, delay: 5 * time.Second})
	m := newTestModel(t, f)
	m.timeout = 150 * time.Millisecond
	start := time.Now()
	_, err := runChat(t, m, structuredRequest())
	assert.Less(t, time.Since(start), 3*time.Second, "the call is cut off at its bound")
	appErr := applicationError(t, err)
	assert.Equal(t, ErrModelTimeout, appErr.Type())
	assert.False(t, appErr.NonRetryable(), "a timeout may succeed on retry, once the model is loaded")
	assert.Contains(t, appErr.Message(), "did not answer within 150ms")
}

func TestChatRefusesAPromptOverTheContext(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	req := structuredRequest()
	req.Options.ContextSize = 16
	req.Messages[0].Content = string(make([]byte, 400))
	_, err := runChat(t, newTestModel(t, f), req)
	appErr := applicationError(t, err)
	assert.Equal(t, ErrModelContextTooLong, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Empty(t, f.chats, "nothing is sent")
}

func TestChatRefusesAnInvalidSchema(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	req := structuredRequest()
	req.Schema = json.RawMessage(`{"type": 12}`)
	_, err := runChat(t, newTestModel(t, f), req)
	appErr := applicationError(t, err)
	assert.Equal(t, ErrModelBadRequest, appErr.Type())
	assert.Empty(t, f.chats)
}

func TestEmbed(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	m := newTestModel(t, f)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(m)
	val, err := env.ExecuteActivity(m.Embed, EmbedRequest{Model: "tiny", Texts: []string{"a", "b"}})
	require.NoError(t, err)
	var res EmbedResult
	require.NoError(t, val.Get(&res))
	assert.Equal(t, [][]float32{{0.1, 0.2}, {0.3, 0.4}}, res.Vectors)
	assert.Equal(t, 6, res.Call.PromptTokens)
	assert.Equal(t, "sha256:abc123def456", res.Call.Digest)
}

func TestChatRefusesAModelServerThatIsNotLocal(t *testing.T) {
	t.Parallel()
	m, err := NewModel("http://8.8.8.8:11434", time.Second)
	require.NoError(t, err)
	_, err = runChat(t, m, structuredRequest())
	appErr := applicationError(t, err)
	assert.Equal(t, ErrModelEndpointRefused, appErr.Type())
	assert.True(t, appErr.NonRetryable())
	assert.Contains(t, appErr.Message(), "which is not a loopback or private address; Tandem keeps inference local")
}

// TestAWorkerSendsTheModelServerAtMostItsParallelCalls runs three calls at
// once on a model worker of one slot: the server answers one at a time, the
// calls waiting for the slot say so in their heartbeat, and all complete.
func TestAWorkerSendsTheModelServerAtMostItsParallelCalls(t *testing.T) {
	t.Parallel()
	body := `{"category":"billing","summary":"refund"}`
	f := newFakeOllama(t, fakeAnswer{body: body, delay: 300 * time.Millisecond}, fakeAnswer{body: body, delay: 300 * time.Millisecond},
		fakeAnswer{body: body, delay: 300 * time.Millisecond})
	m := newTestModel(t, f)
	m.Parallel = 1
	m.heartbeat = 50 * time.Millisecond
	var wg sync.WaitGroup
	var mu sync.Mutex
	var waited []string
	for range 3 {
		wg.Go(func() {
			_, beats, err := runInWorkflow[ChatResult](t, m, m.Chat, structuredRequest(), time.Second)
			assert.NoError(t, err)
			mu.Lock()
			waited = append(waited, beats...)
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 1, f.mostInFlight, "one call at a time reaches the server")
	assert.Contains(t, strings.Join(waited, "\n"), "this worker's 1 calls to the model server are all in progress; this one is next")
}
