package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/codec"
	"github.com/tandemhq/tandem/workflows"
)

// TestHistoryHoldsNoPlaintext routes a ticket full of personal data through
// a worker and client that encrypt payloads, then reads the raw history from
// the real server: none of the data, and not the key, may appear in it; the
// result decodes with the key, and a wrong key gets a clear error, not
// garbage.
func TestHistoryHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	td := startTandem(t)
	ollama := scriptedOllama(t, func(format, last string) string {
		if strings.Contains(format, `"category"`) {
			return `{"category":"billing","priority":"low","sentiment":"neutral","language":"de","summary":"Doppelte Abbuchung bei Erika Mustermann"}`
		}
		return "Sehr geehrte Frau Mustermann, wir erstatten die doppelte Abbuchung."
	})
	keyMaterial := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	keys, err := codec.ParseKeys("2026-11=" + keyMaterial)
	require.NoError(t, err)
	dial := func(k *codec.Keys) client.Client {
		opts := client.Options{HostPort: td.servers.TemporalAddress}
		if k != nil {
			opts.DataConverter, opts.FailureConverter = k.DataConverter(), k.FailureConverter()
		}
		c, err := client.Dial(opts)
		require.NoError(t, err)
		t.Cleanup(c.Close)
		return c
	}
	enc := dial(keys)
	cfg := td.cfg
	cfg.OllamaHost, cfg.Model = ollama.URL, "scripted"
	cfg.TaskQueue, cfg.ModelTaskQueue = "e2e-encrypted", "e2e-encrypted-model"
	startWorkers(t, enc, cfg, td.records)

	secrets := []string{"Erika Mustermann", "DE89 3704 0044 0532 0130 00", "erika.mustermann@example.de", "Mustermann"}
	started, err := api.NewClient(enc, cfg.TaskQueue).StartTicketRouting(context.Background(),
		api.WorkflowID("ticket-routing", fmt.Sprintf("encrypted-%d", time.Now().UnixNano())), workflows.TicketRoutingInput{
			Ticket: workflows.Ticket{Subject: "Doppelte Abbuchung", Customer: "Erika Mustermann", Channel: "email",
				Body: "Bitte erstatten Sie auf DE89 3704 0044 0532 0130 00; Antwort an erika.mustermann@example.de."},
			Model: workflows.ModelSettings{Model: "scripted", TaskQueue: cfg.ModelTaskQueue}})
	require.NoError(t, err)
	run := started.Run
	res, err := started.Result(context.Background())
	require.NoError(t, err, "the key holder reads the result")
	assert.Equal(t, "Sehr geehrte Frau Mustermann, wir erstatten die doppelte Abbuchung.", res.DraftReply)

	plain := dial(nil)
	iter := plain.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		events++
		raw, err := proto.Marshal(ev)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), keyMaterial, "the key never enters history")
		assert.NotContains(t, string(raw), string(bytes.Repeat([]byte{7}, 32)), "the key never enters history")
		for _, s := range secrets {
			assert.NotContains(t, string(raw), s, "event %d (%s) holds plaintext", ev.GetEventId(), ev.GetEventType())
		}
	}
	assert.Greater(t, events, 10)

	wrong, err := codec.ParseKeys("2026-11=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	require.NoError(t, err)
	err = dial(wrong).GetWorkflow(context.Background(), run.GetID(), run.GetRunID()).Get(context.Background(), &res)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `a payload did not decrypt with key "2026-11": the key is not the one it was encrypted with, or the data was changed`)
}
