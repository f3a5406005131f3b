package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/telemetry"
	"github.com/tandemhq/tandem/internal/testenv"
	"github.com/tandemhq/tandem/internal/workers"
	"github.com/tandemhq/tandem/workflows"
)

const testToken = "e2e-secret-token-0123456789"

// triggerAPI serves the HTTP trigger API for a scripted deployment whose
// invoice extraction always fails a check, so invoices wait for a person.
func triggerAPI(t *testing.T) (*httptest.Server, *tandem) {
	td, c := scriptedTandem(t, "http", func(format, last string) string {
		if strings.Contains(format, `"vendorName"`) {
			return `{"documentType":"invoice","refersTo":"","vendorName":"Acme Office Supplies","vendorTaxId":"DE811234567","invoiceNumber":"ACM-77","issueDate":"2026-11-02",` +
				`"dueDate":"2026-12-02","currency":"EUR","lines":[{"description":"paper","quantity":1,"unitPrice":100,"amount":100}],` +
				`"subtotal":100,"tax":19,"total":119,"poNumber":""}`
		}
		return `{}`
	})
	return httptestTrigger(t, api.NewClient(c, td.cfg.TaskQueue)), td
}

// httptestTrigger serves the HTTP trigger API on c until the test ends.
func httptestTrigger(t *testing.T, c *api.Client) *httptest.Server {
	srv := httptest.NewServer((&api.Server{Client: c, Namespace: "default", Token: testToken, UIURL: "http://localhost:8233"}).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// TestHTTPTriggerStartDecideAndRetry starts an invoice over HTTP, retries the
// start with the same key (the same run comes back), lists it as pending,
// approves it over HTTP, and reads the posted result.
func TestHTTPTriggerStartDecideAndRetry(t *testing.T) {
	t.Parallel()
	srv, td := triggerAPI(t)
	key := fmt.Sprintf("erp-%d", time.Now().UnixNano())
	start := map[string]any{"kind": "invoice", "idempotencyKey": key,
		"input": map[string]any{"document": "INVOICE ACM-77 from Acme Office Supplies, total 119.00 EUR"}}

	code, first := call(t, srv, "POST", "/v1/runs", testToken, start)
	require.Equal(t, http.StatusCreated, code, first)
	assert.Equal(t, api.WorkflowID("invoice", key), first["workflowId"])
	code, again := call(t, srv, "POST", "/v1/runs", testToken, start)
	require.Equal(t, http.StatusOK, code, again)
	assert.Equal(t, first["runId"], again["runId"], "a retried start returns the same run")
	assert.Equal(t, true, again["existing"])

	id := first["workflowId"].(string)
	var run map[string]any
	require.Eventually(t, func() bool {
		_, run = call(t, srv, "GET", "/v1/runs/"+id, testToken, nil)
		return run["pending"] != nil
	}, 30*time.Second, 200*time.Millisecond, "the invoice waits for a person (it names no PO)")
	assert.Equal(t, "invoice", run["kind"])
	assert.Equal(t, "Running", run["status"])

	require.Eventually(t, func() bool {
		_, list := call(t, srv, "GET", "/v1/decisions", testToken, nil)
		for _, p := range list["pending"].([]any) {
			if p.(map[string]any)["workflowId"] == id {
				return true
			}
		}
		return false
	}, 10*time.Second, 200*time.Millisecond, "listed as pending")

	code, refused := call(t, srv, "POST", "/v1/runs/"+id+"/decision", testToken, workflows.Decision{Approve: true, By: "mallory"})
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, "mallory may not decide this; one of ap.clerk, ap.lead may", refused["error"])

	code, _ = call(t, srv, "POST", "/v1/runs/"+id+"/decision", testToken, workflows.Decision{Approve: true, By: "ap.lead"})
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, func() bool {
		_, run = call(t, srv, "GET", "/v1/runs/"+id, testToken, nil)
		return run["status"] == "Completed"
	}, 30*time.Second, 200*time.Millisecond)
	var res workflows.InvoiceResult
	data, _ := json.Marshal(run["result"])
	require.NoError(t, json.Unmarshal(data, &res))
	assert.True(t, res.Approved)
	assert.Equal(t, "ap.lead", res.Decision.By)
	require.NotNil(t, res.Ledger)
	raw, err := json.Marshal(history(t, td.servers.Client(t), id, ""))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), testToken, "the bearer token never enters history")

	code, closed := call(t, srv, "POST", "/v1/runs/"+id+"/decision", testToken, workflows.Decision{Approve: false, By: "ap.lead", Reason: "late"})
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, closed["error"], "already closed")

	// The same key with another input is a conflict, not the other run.
	other := map[string]any{"kind": "invoice", "idempotencyKey": key,
		"input": map[string]any{"document": "INVOICE ACM-78 from Acme Office Supplies, total 5.00 EUR"}}
	code, conflict := call(t, srv, "POST", "/v1/runs", testToken, other)
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, "the idempotency key names invoice run "+id+", which was started with another input; use a new key for a new invoice", conflict["error"])
}

// TestIdempotencyKeysThatLookAlikeNameDifferentRuns: keys that a slug would
// merge ("F Col", "F-Col") start two runs.
func TestIdempotencyKeysThatLookAlikeNameDifferentRuns(t *testing.T) {
	t.Parallel()
	srv, _ := triggerAPI(t)
	stamp := fmt.Sprint(time.Now().UnixNano())
	ids := map[string]bool{}
	for _, key := range []string{"F Col " + stamp, "F-Col " + stamp, "f col " + stamp} {
		code, out := call(t, srv, "POST", "/v1/runs", testToken, map[string]any{"kind": "ticket-routing", "idempotencyKey": key,
			"input": map[string]any{"ticket": map[string]any{"subject": "Hello " + key, "body": "b", "customer": "c", "channel": "web"}}})
		require.Equal(t, http.StatusCreated, code, out)
		ids[out["workflowId"].(string)] = true
	}
	assert.Len(t, ids, 3)
}

// TestHTTPTriggerRefusesBadRequests checks each refusal: a 4xx with one sentence.
func TestHTTPTriggerRefusesBadRequests(t *testing.T) {
	t.Parallel()
	srv, _ := triggerAPI(t)
	cases := []struct {
		name, method, path, token string
		body                      any
		code                      int
		want                      string
	}{
		{"no token", "GET", "/v1/decisions", "", nil, 401, "missing or wrong bearer token"},
		{"wrong token", "GET", "/v1/decisions", "nope", nil, 401, "missing or wrong bearer token"},
		{"not JSON", "POST", "/v1/runs", testToken, "{kind:", 400, "the request is not valid JSON for this endpoint"},
		{"no body", "POST", "/v1/runs", testToken, "", 400, "the request has no JSON body"},
		{"unknown kind", "POST", "/v1/runs", testToken, map[string]any{"kind": "payroll", "idempotencyKey": "k", "input": map[string]any{}}, 400,
			`kind "payroll" is not one of ticket-routing, invoice, leave, compliance, agent`},
		{"no key", "POST", "/v1/runs", testToken, map[string]any{"kind": "invoice", "input": map[string]any{"document": "x"}}, 400,
			"an idempotency key is required"},
		{"bad input", "POST", "/v1/runs", testToken, map[string]any{"kind": "ticket-routing", "idempotencyKey": "k",
			"input": map[string]any{"ticket": map[string]any{"subject": "s"}}}, 400, "the ticket has no body, customer, channel"},
		{"unknown field", "POST", "/v1/runs", testToken, map[string]any{"kind": "agent", "idempotencyKey": "k",
			"input": map[string]any{"goal": "x", "profile": "research", "temperature": 2}}, 400, `unknown field "temperature"`},
		{"too large", "POST", "/v1/runs", testToken, `{"kind":"invoice","idempotencyKey":"k","input":{"document":"` + strings.Repeat("x", 2<<20) + `"}}`,
			413, "the request is over 1024 KB"},
		{"data after the body", "POST", "/v1/runs", testToken, `{"kind":"invoice","idempotencyKey":"k","input":{"document":"x"}} {"kind":"agent"}`,
			400, "the request has data after its JSON body; send exactly one JSON object"},
		{"key too long", "POST", "/v1/runs", testToken, map[string]any{"kind": "invoice", "idempotencyKey": strings.Repeat("k", 3000),
			"input": map[string]any{"document": "x"}}, 400, "the idempotency key is 3000 characters; keep it to 200"},
		{"subject too long", "POST", "/v1/runs", testToken, map[string]any{"kind": "ticket-routing", "idempotencyKey": "k",
			"input": map[string]any{"ticket": map[string]any{"subject": strings.Repeat("s", 5000), "body": "b", "customer": "c", "channel": "web"}}},
			400, "the ticket's subject is 5000 characters; keep it to 200"},
		{"bidi override", "POST", "/v1/runs", testToken, map[string]any{"kind": "ticket-routing", "idempotencyKey": "k",
			"input": map[string]any{"ticket": map[string]any{"subject": "refund \u202egnp.exe", "body": "b", "customer": "c", "channel": "web"}}},
			400, `ticket.subject has a control or text-direction character (U+202E); send plain text`},
		{"control character", "POST", "/v1/runs", testToken, map[string]any{"kind": "agent", "idempotencyKey": "k",
			"input": map[string]any{"goal": "x\u001b[2J", "profile": "research"}}, 400, `goal has a control or text-direction character (U+001B)`},
		{"unknown run", "GET", "/v1/runs/invoice-nope", testToken, nil, 404, "there is no run invoice-nope"},
		{"decide unknown run", "POST", "/v1/runs/invoice-nope/decision", testToken, workflows.Decision{Approve: true, By: "x"}, 404, "there is no run invoice-nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := call(t, srv, c.method, c.path, c.token, c.body)
			assert.Equal(t, c.code, code)
			assert.Contains(t, out["error"], c.want)
		})
	}
}

// TestHTTPTriggerHealth serves liveness and readiness without a token, for
// orchestrators' probes: ready while Temporal answers, and a 503 naming
// Temporal once it does not.
func TestHTTPTriggerHealth(t *testing.T) {
	t.Parallel()
	srv, td := triggerAPI(t)
	code, out := call(t, srv, "GET", "/healthz", "", nil)
	assert.Equal(t, 200, code)
	assert.Equal(t, "ok", out["status"])
	code, out = call(t, srv, "GET", "/readyz", "", nil)
	assert.Equal(t, 200, code)
	assert.Equal(t, map[string]any{"temporal": "ok"}, out["checks"])

	// With the process's metrics, /metrics serves them without a token.
	tel, err := telemetry.Start(context.Background(), "e2e-trigger")
	require.NoError(t, err)
	withMetrics := httptest.NewServer((&api.Server{Client: api.NewClient(td.servers.Client(t), td.cfg.TaskQueue), Token: testToken,
		Metrics: tel.MetricsHandler()}).Handler())
	defer withMetrics.Close()
	resp, err := http.Get(withMetrics.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), "go_goroutines")

	unreachable, err := client.NewLazyClient(client.Options{HostPort: freeAddr(t)})
	require.NoError(t, err)
	defer unreachable.Close()
	down := httptestTrigger(t, api.NewClient(unreachable, td.cfg.TaskQueue))
	code, out = call(t, down, "GET", "/readyz", "", nil)
	assert.Equal(t, 503, code)
	assert.Equal(t, "unready", out["status"])
	assert.NotEqual(t, "ok", out["checks"].(map[string]any)["temporal"])
}

// TestOpenAPIDocumentsEveryRoute keeps api/openapi.yaml in step with the
// routes the server serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "api", "openapi.yaml"))
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "api", "http.go"))
	require.NoError(t, err)
	routes := 0
	for _, line := range strings.Split(string(src), "\n") {
		_, after, ok := strings.Cut(line, `mux.HandleFunc("`)
		if !ok {
			continue
		}
		pattern, _, _ := strings.Cut(after, `"`)
		method, path, _ := strings.Cut(pattern, " ")
		routes++
		assert.Contains(t, string(doc), "  "+path+":\n", "%s is documented", path)
		assert.Contains(t, string(doc), strings.ToLower(method)+":", "%s %s is documented", method, path)
	}
	assert.Equal(t, 7, routes)
	for _, path := range []string{"/healthz", "/readyz"} { // served by internal/health
		assert.Contains(t, string(doc), "  "+path+":\n", "%s is documented", path)
	}
}

// TestThePendingListAnswersWhileAWaitingRunsWorkersAreDown: one ticket
// waits for its review on workers that run, eight newer ones on workers
// that then stop (the server takes seconds to give up on each, and the list
// asks the newest first). One call with a caller's ten seconds still names
// the live run, and leaves out the runs no worker answers for; asked one at
// a time without a bound, the stopped runs used up the ten seconds.
func TestThePendingListAnswersWhileAWaitingRunsWorkersAreDown(t *testing.T) {
	t.Parallel()
	td, c := scriptedTandem(t, fmt.Sprintf("pending-%d", time.Now().UnixNano()), urgentTickets)
	ctx := context.Background()
	ticket := workflows.TicketRoutingInput{Ticket: workflows.Ticket{Subject: "Parcel lost", Body: "It never came.", Customer: "Camille Martin",
		Channel: "email"}}
	waiting := func(tc *api.Client, key string) string {
		run, err := tc.StartTicketRouting(ctx, api.WorkflowID("ticket-routing", key), ticket)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			st, err := tc.Status(ctx, run.ID)
			return err == nil && st.Pending != nil
		}, time.Minute, 100*time.Millisecond)
		return run.ID
	}

	live := waiting(api.NewClient(c, td.cfg.TaskQueue), td.cfg.TaskQueue)
	cfg := td.cfg // the orphan starts later, so the list (newest first) asks it first
	cfg.TaskQueue, cfg.ModelTaskQueue = cfg.TaskQueue+"-stopped", cfg.ModelTaskQueue+"-stopped"
	snap, err := workers.Preflight(ctx, cfg)
	require.NoError(t, err)
	stopped, err := workers.Start(c, cfg, td.records, snap, nil)
	require.NoError(t, err)
	var orphans []string
	for i := range 8 {
		orphans = append(orphans, waiting(api.NewClient(c, cfg.TaskQueue), fmt.Sprintf("%s-%d", cfg.TaskQueue, i)))
	}
	stopped.Stop()
	t.Cleanup(func() {
		for _, id := range orphans {
			_ = c.TerminateWorkflow(ctx, id, "", "test finished")
		}
	})

	for _, id := range append(orphans, live) {
		waitForVisibility(t, c, fmt.Sprintf("WorkflowId = '%s' AND TandemWaiting = true", id))
	}
	listCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	list, err := api.NewClient(c, "").PendingDecisions(listCtx, "default")
	require.NoError(t, err)
	var ids []string
	for _, p := range list {
		ids = append(ids, p.WorkflowID)
	}
	assert.Contains(t, ids, live, "the live run is listed")
	for _, id := range orphans {
		assert.NotContains(t, ids, id, "a run no worker answers for is left out")
	}
}
