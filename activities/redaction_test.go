package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/policy"
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

	var n int
	n = storetest.Int(t, s.Records, `SELECT count(*) FROM redactions WHERE scope = ?`, "default-test-workflow-id")
	assert.Equal(t, 3, n, "one mapping per value, kept in the store")
}

func TestWithoutRestoreTheAnswerKeepsThePlaceholders(t *testing.T) {
	f := newFakeOllama(t, fakeAnswer{body: "Dear [EMAIL_1], we are on it."})
	m, _ := redactingModel(t, f, false)
	res, err := runChat(t, m, ChatRequest{Purpose: "reply", Model: "tiny", Messages: []Message{{Role: "user", Content: personalTicket}}})
	require.NoError(t, err)
	assert.Equal(t, "Dear [EMAIL_1], we are on it.", res.Text)
}

func TestAValueKeepsItsPlaceholderAcrossCallsAndConcurrentAssignment(t *testing.T) {
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
	var turns int
	turns = storetest.Int(t, s.Records, `SELECT count(*) FROM agent_turns WHERE run_key = 'old-run'`)
	assert.Zero(t, turns)
}

func TestEmbeddingsAreRedactedToo(t *testing.T) {
	f := newFakeOllama(t)
	m, _ := redactingModel(t, f, true)
	res, err := m.Embed(context.Background(), EmbedRequest{Model: "tiny", Texts: []string{"mail ann@example.com", "nothing here"}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Call.Redacted)
	assert.Equal(t, []string{"mail [EMAIL_1]", "nothing here"}, f.embeds)
}
