// Package activities holds every side effect Tandem's workflows have: model
// calls to the local Ollama server, the business store, tools and the outbox.
package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/localonly"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/telemetry"
)

// Message is one turn of a conversation with the model.
type Message struct {
	Role    string `json:"role"` // system, user or assistant
	Content string `json:"content"`
}

// ModelOptions tune one model call. Zero values take the defaults: for a
// structured answer temperature 0 and seed 42, so that the same input gives
// the same answer.
type ModelOptions struct {
	Temperature *float64 `json:"temperature,omitempty"`
	Seed        *int     `json:"seed,omitempty"`
	MaxTokens   int      `json:"maxTokens,omitempty"`   // num_predict; default 512
	ContextSize int      `json:"contextSize,omitempty"` // num_ctx; default 4096
}

// ChatRequest is one model call. With Schema set the answer is structured:
// Schema goes to Ollama as the JSON-schema `format`, and the answer is
// validated against it again here, with up to MaxRepairs repair turns. With
// Schema empty the answer is free text.
type ChatRequest struct {
	Purpose    string          `json:"purpose"` // what the call is for, in a few words
	Model      string          `json:"model"`
	Messages   []Message       `json:"messages"`
	Schema     json.RawMessage `json:"schema,omitempty"`
	Options    ModelOptions    `json:"options"`
	MaxRepairs *int            `json:"maxRepairs,omitempty"` // default 1
}

// ChatResult is the model's answer and the record of the call.
type ChatResult struct {
	Answer json.RawMessage `json:"answer,omitempty"` // structured answer, valid against the schema
	Text   string          `json:"text,omitempty"`   // free-text answer
	Call   ModelCall       `json:"call"`
}

// EmbedRequest asks for one embedding per input text.
type EmbedRequest struct {
	Model string   `json:"model"`
	Texts []string `json:"texts"`
}

// EmbedResult holds one vector per input text, in order.
type EmbedResult struct {
	Vectors [][]float32 `json:"vectors"`
	Call    ModelCall   `json:"call"`
}

// Model calls the local Ollama server. Register it on the model task queue,
// whose worker bounds concurrent calls to the server's parallelism.
type Model struct {
	host      string
	client    *api.Client // lists models and embeds
	chats     chatStream  // chat requests, streamed
	timeout   time.Duration
	heartbeat time.Duration
	// persistFor bounds how long one attempt waits out a failing model
	// server before it hands the failure to Temporal's retry.
	persistFor time.Duration

	digests sync.Map // model name -> digest

	// AllowedEndpoints are model servers allowed besides loopback and
	// private addresses (the data policy's and TANDEM_MODEL_ENDPOINTS).
	AllowedEndpoints []string
	// Redaction replaces personal data before it reaches the model; nil
	// sends text as it is.
	Redaction *Redaction
	// Tracer makes a span of each call in the OpenTelemetry GenAI
	// conventions, and Metrics records it; both do nothing when unset.
	Tracer  trace.Tracer
	Metrics *telemetry.Metrics
	// SpanContent puts prompts and answers, redacted, into the spans (the
	// data policy's telemetry.spanContent).
	SpanContent bool
	// KeepAlive is how long Ollama keeps the model loaded after a call, so
	// that the next call neither loads it again nor loses its prompt
	// cache; 0 leaves it to the server (5 minutes).
	KeepAlive time.Duration
	// Parallel is how many calls this worker sends the model server at
	// once (TANDEM_MODEL_PARALLEL); 0 leaves it to the worker's activity
	// slots. The model worker runs one activity more than this, which
	// waits here for a free slot, so the server starts the next call the
	// moment one ends rather than after Temporal hands the worker its next
	// task.
	Parallel  int
	slotsOnce sync.Once
	slots     chan struct{}
}

// slot waits for one of the model server's Parallel slots, saying so in
// the heartbeat while it waits, and returns its release.
func (m *Model) slot(ctx context.Context, hb *heartbeat) (release func(), err error) {
	if m.Parallel <= 0 {
		return func() {}, nil
	}
	m.slotsOnce.Do(func() { m.slots = make(chan struct{}, m.Parallel) })
	select {
	case m.slots <- struct{}{}:
	default:
		before := hb.reason()
		hb.wait(fmt.Sprintf("this worker's %d calls to the model server are all in progress; this one is next", m.Parallel))
		defer hb.wait(before)
		select {
		case m.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return func() { <-m.slots }, nil
}

func (m *Model) keepAlive() *api.Duration {
	if m.KeepAlive <= 0 {
		return nil
	}
	return &api.Duration{Duration: m.KeepAlive}
}

// NewModel returns the model activities for the Ollama server at host
// (a URL), each call bounded by timeout.
func NewModel(host string, timeout time.Duration) (*Model, error) {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("OLLAMA_HOST %q is not a URL; set it like http://127.0.0.1:11434", host)
	}
	traced := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)}
	return &Model{
		host:       host,
		client:     api.NewClient(u, traced),
		chats:      chatStream{base: u, http: traced},
		timeout:    timeout,
		heartbeat:  5 * time.Second,
		persistFor: 24 * time.Hour,
	}, nil
}

const (
	defaultSeed      = 42
	defaultMaxTokens = 512
	// DefaultContextSize is the context window (num_ctx) model calls ask
	// for unless they say otherwise.
	DefaultContextSize = 4096
)

// EstimateTokens is a conservative count of a text's tokens, about four
// characters a token.
func EstimateTokens(text string) int { return len(text)/4 + 1 }

// Chat asks the model for an answer: structured when req.Schema is set,
// free text otherwise.
func (m *Model) Chat(ctx context.Context, req ChatRequest) (ChatResult, error) {
	start := time.Now()
	res, err := m.chat(ctx, req)
	m.record(ctx, req.Model, req.Purpose, start, res.Call, err)
	return res, err
}

// record counts a finished model call in the metrics: its time, tokens
// and repairs, or its error's class.
func (m *Model) record(ctx context.Context, model, purpose string, start time.Time, call ModelCall, err error) {
	if err == nil {
		m.metrics().ModelCall(ctx, model, purpose, time.Since(start), call.PromptTokens, call.OutputTokens, call.Repairs)
		return
	}
	class := "other"
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		class = appErr.Type()
	}
	if class == ErrModelInvalidAnswer {
		m.metrics().InvalidAnswer(ctx, model, purpose)
	}
	m.metrics().Tokens(ctx, model, purpose, call.PromptTokens, call.OutputTokens)
	m.metrics().ModelError(ctx, model, class)
}

func (m *Model) chat(ctx context.Context, req ChatRequest) (ChatResult, error) {
	if req.Model == "" || len(req.Messages) == 0 {
		return ChatResult{}, badRequest("a model call needs a model name and at least one message")
	}
	if err := m.guard(ctx); err != nil {
		return ChatResult{}, err
	}
	if len(req.Schema) > 0 {
		if err := schema.Check(req.Schema); err != nil {
			return ChatResult{}, badRequest(fmt.Sprintf("the answer schema for %q is invalid: %v", req.Purpose, err))
		}
	}
	opts := resolveOptions(req)
	if est := estimateTokens(req.Messages); est > opts.ContextSize {
		return ChatResult{}, contextTooLong(req.Model, est, opts.ContextSize)
	}
	hb := m.keepHeartbeating(ctx, req.Purpose)
	defer hb.stop()

	call := ModelCall{Purpose: req.Purpose, Model: req.Model, Digest: m.digest(ctx, req.Model)}
	redaction := m.Redaction.begin(ctx)
	messages, err := redaction.messages(req.Messages)
	if err != nil {
		return ChatResult{}, err
	}
	call.Redacted = redaction.replaced
	maxRepairs := 1
	if req.MaxRepairs != nil {
		maxRepairs = *req.MaxRepairs
	}
	for attempt := 0; ; attempt++ {
		var (
			text    string
			metrics api.Metrics
		)
		err := m.persist(ctx, hb, req.Model, func(ctx context.Context) (err error) {
			text, metrics, err = m.chatOnce(ctx, call.Purpose, attempt, req.Model, messages, req.Schema, opts)
			return err
		})
		addMetrics(&call, metrics)
		if err != nil {
			return ChatResult{}, err
		}
		if len(req.Schema) == 0 {
			return ChatResult{Text: redaction.restoreText(text), Call: call}, nil
		}
		answer := redaction.restoreJSON(text)
		verr := schema.Validate(req.Schema, []byte(answer))
		if verr != nil {
			verr = fmt.Errorf("the answer %w", verr)
		}
		if verr == nil {
			return ChatResult{Answer: compact(answer), Call: call}, nil
		}
		if attempt >= maxRepairs {
			return ChatResult{Call: call}, invalidAnswer(req.Model, req.Purpose, attempt+1, verr) // the call, for the metrics
		}
		call.Repairs++
		activity.GetLogger(ctx).Warn("Model answer did not validate; asking for a repair",
			"purpose", req.Purpose, "model", req.Model, "error", verr.Error())
		messages = append(messages,
			Message{Role: "assistant", Content: text},
			Message{Role: "user", Content: fmt.Sprintf(
				"That answer is not usable: %v. Answer again with only one JSON value that matches the schema.", verr)})
	}
}

// Embed returns an embedding for each text.
func (m *Model) Embed(ctx context.Context, req EmbedRequest) (EmbedResult, error) {
	if req.Model == "" || len(req.Texts) == 0 {
		return EmbedResult{}, badRequest("an embedding call needs a model name and at least one text")
	}
	if err := m.guard(ctx); err != nil {
		return EmbedResult{}, err
	}
	hb := m.keepHeartbeating(ctx, "embed")
	defer hb.stop()
	redaction := m.Redaction.begin(ctx)
	texts := make([]string, len(req.Texts))
	for i, t := range req.Texts {
		var err error
		if texts[i], err = redaction.text(t); err != nil {
			return EmbedResult{}, err
		}
	}
	var resp *api.EmbedResponse
	err := m.persist(ctx, hb, req.Model, func(ctx context.Context) (err error) {
		resp, err = m.client.Embed(ctx, &api.EmbedRequest{Model: req.Model, Input: texts, KeepAlive: m.keepAlive()})
		return err
	})
	if err != nil {
		return EmbedResult{}, err
	}
	call := ModelCall{Purpose: "embed", Model: req.Model, Digest: m.digest(ctx, req.Model), Redacted: redaction.replaced,
		PromptTokens: resp.PromptEvalCount, LoadDuration: resp.LoadDuration, TotalDuration: resp.TotalDuration}
	return EmbedResult{Vectors: resp.Embeddings, Call: call}, nil
}

func (m *Model) chatOnce(ctx context.Context, purpose string, repair int, model string, messages []Message, format json.RawMessage, opts ModelOptions) (string, api.Metrics, error) {
	msg, metrics, err := m.exchange(ctx, purpose, repair, &api.ChatRequest{
		Model:    model,
		Messages: toAPI(messages),
		Format:   format,
		Options: map[string]any{
			"temperature": *opts.Temperature,
			"seed":        *opts.Seed,
			"num_predict": opts.MaxTokens,
			"num_ctx":     opts.ContextSize,
		},
	})
	return msg.Content, metrics, err
}

// exchange sends one chat request and streams the answer in, heartbeating
// as tokens arrive: the one place a chat request goes over the wire, for
// structured and free-text answers and for native tool calls alike. A
// stream that ends before the model says it is done is an error. Each
// exchange is a span in the OpenTelemetry GenAI conventions, holding no
// prompt or answer text.
func (m *Model) exchange(ctx context.Context, purpose string, repair int, req *api.ChatRequest) (api.Message, api.Metrics, error) {
	if req.KeepAlive == nil {
		req.KeepAlive = m.keepAlive()
	}
	ctx, span := m.tracer().Start(ctx, "chat "+req.Model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.GenAIOperationNameChat, semconv.GenAIProviderNameKey.String("ollama"), semconv.GenAIRequestModel(req.Model),
		attribute.String("tandem.purpose", purpose), attribute.Int("tandem.repair", repair),
		attribute.Bool("tandem.structured", len(req.Format) > 0), attribute.String("tandem.model_digest", m.digest(ctx, req.Model))))
	defer span.End()
	var (
		msg           api.Message
		content       strings.Builder
		metrics       api.Metrics
		tokens        int
		done          bool
		responseModel string
		firstToken    time.Duration
	)
	start := time.Now()
	err := m.chats.Chat(ctx, req, func(r api.ChatResponse) error {
		if firstToken == 0 && (r.Message.Content != "" || len(r.Message.ToolCalls) > 0) {
			firstToken = time.Since(start)
		}
		content.WriteString(r.Message.Content)
		msg.ToolCalls = append(msg.ToolCalls, r.Message.ToolCalls...)
		tokens++
		if hb := heartbeatOf(ctx); tokens%16 == 0 && hb != nil && activity.IsActivity(ctx) {
			hb.generating(tokens, content.String())
			activity.RecordHeartbeat(ctx, hb.details())
		}
		if r.Done {
			metrics, done, responseModel = r.Metrics, true, r.Model
		}
		return nil
	})
	if err == nil && !done {
		err = errCutOff
	}
	msg.Content = content.String()
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeOther)
		return msg, metrics, err
	}
	span.SetAttributes(semconv.GenAIResponseModel(responseModel), semconv.GenAIUsageInputTokens(metrics.PromptEvalCount),
		semconv.GenAIUsageOutputTokens(metrics.EvalCount))
	if m.SpanContent { // the messages here are redacted already, and the answer not yet restored
		input, _ := json.Marshal(req.Messages)
		output, _ := json.Marshal([]api.Message{{Role: "assistant", Content: msg.Content, ToolCalls: msg.ToolCalls}})
		span.SetAttributes(attribute.String("gen_ai.input.messages", string(input)), attribute.String("gen_ai.output.messages", string(output)))
	}
	if firstToken > 0 {
		m.metrics().FirstToken(ctx, req.Model, purpose, firstToken)
	}
	return msg, metrics, nil
}

func (m *Model) tracer() trace.Tracer {
	if m.Tracer == nil {
		return noop.NewTracerProvider().Tracer(telemetry.Name)
	}
	return m.Tracer
}

func (m *Model) metrics() *telemetry.Metrics {
	if m.Metrics == nil {
		return telemetry.Discard
	}
	return m.Metrics
}

// errCutOff is a stream that ended before the model said it was done: the
// answer is incomplete, whatever it looks like.
var errCutOff = errors.New("the answer stream ended before the model finished")

// guard refuses to send anything to a model server that is not local,
// before any data leaves the worker.
func (m *Model) guard(ctx context.Context) error {
	if err := localonly.Check(ctx, m.host, m.AllowedEndpoints); err != nil {
		activity.GetLogger(ctx).Error("Refused a model server that is not local", "host", m.host, "error", err.Error())
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrModelEndpointRefused, nil)
	}
	return nil
}

// heartbeat reports an activity's progress every m.heartbeat, so a cold
// model load, which sends no tokens, or a wait for the server does not look
// like a dead worker. Its details say what the call is waiting for.
type heartbeat struct {
	purpose string
	mu      sync.Mutex
	waiting string // why the call is waiting, while it waits for the server
	live    string // the answer so far, while the model writes it
	stop    func()
}

// HeartbeatWaiting starts the details a model call heartbeats while it waits
// for an unreachable or busy model server, so that status readers can tell.
const HeartbeatWaiting = "waiting for the model server: "

// HeartbeatGenerating starts the details a model call heartbeats while the
// model writes its answer: how far it got, and the answer's last words, as
// the model wrote them (placeholders and all). A side channel: they reach
// `starter watch` through the pending activity, not the run's history.
const HeartbeatGenerating = "generating "

// liveTail is how much of an answer in progress a heartbeat carries.
const liveTail = 240

func (h *heartbeat) details() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.waiting != "":
		return HeartbeatWaiting + h.waiting
	case h.live != "":
		return h.live
	}
	return "waiting for the model: " + h.purpose
}

// generating records the answer so far.
func (h *heartbeat) generating(tokens int, answer string) {
	if h == nil {
		return
	}
	if len(answer) > liveTail {
		answer = "…" + strings.ToValidUTF8(answer[len(answer)-liveTail:], "")
	}
	h.mu.Lock()
	h.live = fmt.Sprintf("%s%s: %d tokens so far: %s", HeartbeatGenerating, h.purpose, tokens, strings.Join(strings.Fields(answer), " "))
	h.mu.Unlock()
}

type heartbeatKey struct{}

// heartbeatOf is the heartbeat persist put in a call's context.
func heartbeatOf(ctx context.Context) *heartbeat {
	h, _ := ctx.Value(heartbeatKey{}).(*heartbeat)
	return h
}

// reason is why the call waits, or "".
func (h *heartbeat) reason() string {
	if h == nil {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waiting
}

func (h *heartbeat) wait(why string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.waiting = why
	h.mu.Unlock()
}

func (m *Model) keepHeartbeating(ctx context.Context, purpose string) *heartbeat {
	h := &heartbeat{purpose: purpose}
	h.stop = heartbeatWhile(ctx, m.heartbeat, func() any { return h.details() })
	return h
}

// transient are the model errors a wait can fix.
var transient = []string{ErrModelUnreachable, ErrModelBusy, ErrModelServer, ErrModelCutOff}

// persist calls the model server through try, each try bounded by
// m.timeout. While the server is unreachable, busy, failing or cutting
// answers off, it waits and tries again, heartbeating why, within
// m.persistFor and the activity's deadline (the data policy's
// models.retryFor). A waiting call so keeps its worker slot, and the calls
// queued behind it keep their order: the oldest is served first when the
// server is back, and none fails for an outage shorter than the budget.
func (m *Model) persist(ctx context.Context, hb *heartbeat, model string, try func(ctx context.Context) error) error {
	first, pause := time.Now(), time.Second
	for n := 1; ; n++ {
		release, err := m.slot(ctx, hb)
		if err != nil {
			return err
		}
		tctx, cancel := context.WithTimeout(context.WithValue(ctx, heartbeatKey{}, hb), m.timeout)
		err = try(tctx)
		if err != nil {
			err = m.classify(tctx, err, model)
		}
		cancel()
		release()
		var appErr *temporal.ApplicationError
		if err == nil || !errors.As(err, &appErr) || !slices.Contains(transient, appErr.Type()) {
			hb.wait("")
			return err
		}
		deadline, ok := ctx.Deadline()
		if !ok || time.Since(first)+pause > m.persistFor || time.Until(deadline) < pause+m.timeout/10 {
			return err
		}
		why := fmt.Sprintf("%s (since %s, try %d); retrying", appErr.Message(), first.UTC().Format(time.TimeOnly), n)
		hb.wait(why)
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, hb.details())
			if n == 1 {
				activity.GetLogger(ctx).Warn("Model server failing; the call waits and retries", "model", model, "error", appErr.Message())
			}
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, 15*time.Second)
	}
}

// digest returns the digest of model on the server, or "" when the server
// does not list it; it is looked up once per model.
func (m *Model) digest(ctx context.Context, model string) string {
	if d, ok := m.digests.Load(model); ok {
		return d.(string)
	}
	list, err := m.client.List(ctx)
	if err != nil {
		return ""
	}
	for _, lm := range list.Models {
		if lm.Name == model || lm.Model == model || lm.Name == model+":latest" {
			m.digests.Store(model, lm.Digest)
			return lm.Digest
		}
	}
	return ""
}

func resolveOptions(req ChatRequest) ModelOptions {
	o := req.Options
	if o.Temperature == nil {
		t := 0.0
		if len(req.Schema) == 0 {
			t = 0.7
		}
		o.Temperature = &t
	}
	if o.Seed == nil {
		s := defaultSeed
		o.Seed = &s
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = defaultMaxTokens
	}
	if o.ContextSize <= 0 {
		o.ContextSize = DefaultContextSize
	}
	return o
}

// estimateTokens is a conservative count of the prompt's tokens (about four
// characters a token, plus a few per message for the chat template).
func estimateTokens(messages []Message) int {
	n := 0
	for _, msg := range messages {
		n += EstimateTokens(msg.Content) + 3 // and the chat template's share
	}
	return n
}

// addMetrics adds an Ollama response's counts and durations to a call's.
func addMetrics(c *ModelCall, m api.Metrics) {
	c.PromptTokens += m.PromptEvalCount
	c.OutputTokens += m.EvalCount
	c.LoadDuration += m.LoadDuration
	c.PromptDuration += m.PromptEvalDuration
	c.EvalDuration += m.EvalDuration
	c.TotalDuration += m.TotalDuration
}

func toAPI(messages []Message) []api.Message {
	out := make([]api.Message, len(messages))
	for i, msg := range messages {
		out[i] = api.Message{Role: msg.Role, Content: msg.Content}
	}
	return out
}

func compact(text string) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(text)); err != nil {
		return json.RawMessage(text)
	}
	return b.Bytes()
}

// Ready reports whether the Ollama server answers and has model, with a
// sentence saying what to do when not.
func (m *Model) Ready(ctx context.Context, model string) error {
	list, err := m.client.List(ctx)
	if err != nil {
		return fmt.Errorf("the Ollama server at %s does not answer; start it with `ollama serve` or set OLLAMA_HOST", m.host)
	}
	for _, lm := range list.Models {
		if lm.Name == model || lm.Model == model || lm.Name == model+":latest" {
			return nil
		}
	}
	return fmt.Errorf("model %s is not on the Ollama server at %s; pull it with `ollama pull %s`", model, m.host, model)
}
