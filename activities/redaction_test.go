package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/redact"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/store/storetest"
)

// redactingModel is a model whose calls are redacted under the built-in
// data policy, with restore set as given.
func redactingModel(t *testing.T, f *fakeOllama, restore bool) (*Model, *Store) {
	snap, err := policy.Load("", nil)
	require.NoError(t, err)
	r, err := snap.Policy.Redactor()
	require.NoError(t, err)
	s := seededStore(t)
	m := newTestModel(t, f)
	m.Redaction = &Redaction{Redactor: r, Restore: restore, Store: s}
	return m, s
}

var contactSchema = schema.Object(
	schema.Prop("email", schema.String("the customer's email", 80)),
	schema.Prop("reply", schema.String("", 200)),
)

const personalTicket = "I am ann@example.com, card 4111 1111 1111 1111, call +44 20 7946 0018. Write to ann@example.com."

func TestTheModelSeesPlaceholdersAndTheAnswerGetsTheValuesBack(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: `{"email":"[EMAIL_1]","reply":"We wrote to [EMAIL_1] about [CARD_1]."}`})
	m, s := redactingModel(t, f, true)
	res, err := runChat(t, m, ChatRequest{Purpose: "contact", Model: "tiny", Schema: contactSchema,
		Messages: []Message{{Role: "user", Content: personalTicket}}})
	require.NoError(t, err)

	sent := f.chats[0]["messages"].([]any)[0].(map[string]any)["content"].(string)
	assert.Equal(t, "I am [EMAIL_1], card [CARD_1], call [PHONE_1]. Write to [EMAIL_1].", sent)
	for _, secret := range []string{"ann@example.com", "4111", "7946"} {
		assert.NotContains(t, sent, secret)
	}
	assert.JSONEq(t, `{"email":"ann@example.com","reply":"We wrote to ann@example.com about 4111 1111 1111 1111."}`, string(res.Answer))
	assert.Equal(t, 4, res.Call.Redacted)

	n := storetest.Int(t, s.Records, `SELECT count(*) FROM redactions WHERE scope = ?`, "default-test-workflow-id")
	assert.Equal(t, 3, n, "one mapping per value, kept in the store")
}

// TestARepeatedLineIsRedactedOnceAndItsValuesStillComeBack: the next
// call's prompt repeats a line; the line is taken from the run's cache, and
// the values it replaced are still restored in the answer.
func TestARepeatedLineIsRedactedOnceAndItsValuesStillComeBack(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t,
		fakeAnswer{body: `{"email":"[EMAIL_1]","reply":"noted"}`},
		fakeAnswer{body: `{"email":"[EMAIL_1]","reply":"[EMAIL_2] too"}`})
	m, _ := redactingModel(t, f, true)
	first := "Ticket from ann@example.com\nPlease help."
	_, err := runChat(t, m, ChatRequest{Purpose: "contact", Model: "tiny", Schema: contactSchema,
		Messages: []Message{{Role: "user", Content: first}}})
	require.NoError(t, err)
	var cached []string
	for k, v := range m.Redaction.lines.lines {
		if k.line == "Ticket from ann@example.com" {
			cached = append(cached, k.run+": "+v.text)
		}
	}
	assert.Equal(t, []string{"default-test-workflow-id/default-test-run-id: Ticket from [EMAIL_1]"}, cached,
		"the line is kept for the run's next call")

	res, err := runChat(t, m, ChatRequest{Purpose: "contact", Model: "tiny", Schema: contactSchema,
		Messages: []Message{{Role: "user", Content: first + "\nAlso bob@example.com wrote."}}})
	require.NoError(t, err)
	sent := f.chats[1]["messages"].([]any)[0].(map[string]any)["content"].(string)
	assert.Equal(t, "Ticket from [EMAIL_1]\nPlease help.\nAlso [EMAIL_2] wrote.", sent)
	assert.JSONEq(t, `{"email":"ann@example.com","reply":"bob@example.com too"}`, string(res.Answer))
	assert.Equal(t, 2, res.Call.Redacted)
}

func TestWithoutRestoreTheAnswerKeepsThePlaceholders(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t, fakeAnswer{body: "Dear [EMAIL_1], we are on it."})
	m, _ := redactingModel(t, f, false)
	res, err := runChat(t, m, ChatRequest{Purpose: "reply", Model: "tiny", Messages: []Message{{Role: "user", Content: personalTicket}}})
	require.NoError(t, err)
	assert.Equal(t, "Dear [EMAIL_1], we are on it.", res.Text)
}

func TestAValueKeepsItsPlaceholderAcrossCallsAndConcurrentAssignment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seededStore(t)
	phs := make(chan string, 20)
	for i := range 20 {
		go func() {
			ph, err := s.Records.Placeholder(ctx, "run-1", "EMAIL", []string{"a@x.example", "b@x.example"}[i%2])
			assert.NoError(t, err)
			phs <- ph
		}()
	}
	got := map[string]bool{}
	for range 20 {
		got[<-phs] = true
	}
	assert.Equal(t, map[string]bool{"[EMAIL_1]": true, "[EMAIL_2]": true}, got)
	ph, err := s.Records.Placeholder(ctx, "run-2", "EMAIL", "b@x.example")
	require.NoError(t, err)
	assert.Equal(t, "[EMAIL_1]", ph, "numbering is per run")
}

func TestRetentionDeletesOldModelOutputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := seededStore(t)
	_, err := s.Records.Placeholder(ctx, "old-run", "EMAIL", "a@x.example")
	require.NoError(t, err)
	require.NoError(t, s.SaveAgentFrame(ctx, AgentFrame{RunKey: "old-run", Goal: "g", Profile: "research"}))
	require.NoError(t, s.AppendAgentTurns(ctx, "old-run", []Turn{{Step: 1, Kind: "message", Observation: "hi"}}))

	p, err := s.Records.PurgeModelOutputs(ctx, 24*time.Hour, time.Now())
	require.NoError(t, err)
	assert.Zero(t, p.AgentRuns+p.Redactions, "nothing is a day old yet")

	p, err = s.Records.PurgeModelOutputs(ctx, 24*time.Hour, time.Now().Add(25*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, store.Purged{AgentRuns: 1, Redactions: 1}, p)
	turns := storetest.Int(t, s.Records, `SELECT count(*) FROM agent_turns WHERE run_key = 'old-run'`)
	assert.Zero(t, turns)
}

func TestEmbeddingsAreRedactedToo(t *testing.T) {
	t.Parallel()
	f := newFakeOllama(t)
	m, _ := redactingModel(t, f, true)
	res, err := m.Embed(context.Background(), EmbedRequest{Model: "tiny", Texts: []string{"mail ann@example.com", "nothing here"}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Call.Redacted)
	assert.Equal(t, []string{"mail [EMAIL_1]", "nothing here"}, f.embeds)
}

// TestSpansHoldTextOnlyWhenThePolicySaysAndOnlyRedacted records a model
// call's span: without the data policy's spanContent it holds no text of
// the prompt or the answer; with it, the text as the model saw it, with
// placeholders for the personal data.
func TestSpansHoldTextOnlyWhenThePolicySaysAndOnlyRedacted(t *testing.T) {
	t.Parallel()
	for _, content := range []bool{false, true} {
		f := newFakeOllama(t, fakeAnswer{body: "Dear [EMAIL_1], we are on it."})
		m, _ := redactingModel(t, f, true)
		spans := tracetest.NewSpanRecorder()
		m.Tracer = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("test")
		m.SpanContent = content
		_, err := runChat(t, m, ChatRequest{Purpose: "reply", Model: "tiny", Messages: []Message{{Role: "user", Content: personalTicket}}})
		require.NoError(t, err)
		var chats []sdktrace.ReadOnlySpan
		for _, s := range spans.Ended() {
			if s.Name() == "chat tiny" {
				chats = append(chats, s)
			}
		}
		require.Len(t, chats, 1, "one span for the one exchange")
		span := chats[0]
		var dump strings.Builder
		for _, a := range span.Attributes() {
			dump.WriteString(string(a.Key) + "=" + a.Value.String() + "\n")
		}
		for _, secret := range []string{"ann@example.com", "4111", "7946"} {
			assert.NotContains(t, dump.String(), secret)
		}
		assert.Contains(t, dump.String(), "gen_ai.operation.name=chat")
		assert.Contains(t, dump.String(), "gen_ai.usage.output_tokens=")
		if content {
			assert.Contains(t, dump.String(), `gen_ai.input.messages=[{"role":"user","content":"I am [EMAIL_1], card [CARD_1]`)
			assert.Contains(t, dump.String(), "Dear [EMAIL_1], we are on it.")
		} else {
			assert.NotContains(t, dump.String(), "gen_ai.input.messages")
			assert.NotContains(t, dump.String(), "we are on it")
		}
	}
}

// TestEachSetOfNamesIsCompiledOnce: the redactor for a run's names is built
// once and then reused, and still takes the names out.
func TestEachSetOfNamesIsCompiledOnce(t *testing.T) {
	t.Parallel()
	var cache namesCache
	base := redact.New()
	camille := cache.redactor(base, []string{"Camille Martin"})
	assert.Same(t, camille, cache.redactor(base, []string{"Camille Martin"}))
	assert.NotSame(t, camille, cache.redactor(base, []string{"Dana Wells"}))

	out, n, err := camille.Replace("Bonjour, je suis Camille Martin.", func(kind, _ string) (string, error) { return "[" + kind + "]", nil })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, "Bonjour, je suis [NAME].", out)
}
