package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/testenv"
)

// urgentTickets classifies every ticket as urgent, so its reply waits for
// a person's review, and drafts a reply.
func urgentTickets(format, _ string) string {
	if strings.Contains(format, `"category"`) {
		return `{"category":"shipping","priority":"urgent","sentiment":"neutral","language":"en","summary":"parcel lost"}`
	}
	return "We are sorry; a replacement is on its way."
}

const (
	leadToken   = "lead-token-0123456789"
	internToken = "intern-token-0123456789"
)

// mcpSession connects to Tandem's MCP endpoint with a bearer token.
func mcpSession(t *testing.T, url, token string) (*mcp.ClientSession, error) {
	httpClient := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultTransport.RoundTrip(r)
	})}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: url, HTTPClient: httpClient, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// callTool calls a tool and returns its result as JSON, or its error text.
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args any) (map[string]any, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	text := res.Content[0].(*mcp.TextContent).Text
	if res.IsError {
		return nil, text
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &out), text)
	return out, ""
}

// TestOtherAgentsHandWorkToTandemThroughMCP is another agent using Tandem's
// MCP endpoint on the trigger, with the Go SDK's client: it lists the
// tools, starts a ticket routing with an idempotency key, finds the review
// it waits for, and decides it. A caller who is not an approver is refused,
// and a wrong token is turned away.
func TestOtherAgentsHandWorkToTandemThroughMCP(t *testing.T) {
	t.Parallel()
	td, c := scriptedTandem(t, "mcp-server", urgentTickets)
	srv := httptest.NewServer((&api.Server{Client: api.NewClient(c, td.cfg.TaskQueue), Namespace: "default", Token: testToken,
		MCPCallers: map[string]string{leadToken: "support.lead", internToken: "intern"}}).Handler())
	t.Cleanup(srv.Close)

	_, err := mcpSession(t, srv.URL+"/mcp", "wrong-token-0123456789")
	require.Error(t, err, "an unknown token is turned away")
	lead, err := mcpSession(t, srv.URL+"/mcp", leadToken)
	require.NoError(t, err)
	intern, err := mcpSession(t, srv.URL+"/mcp", internToken)
	require.NoError(t, err)

	var names []string
	for tool, err := range lead.Tools(context.Background(), nil) {
		require.NoError(t, err)
		names = append(names, tool.Name)
	}
	assert.Equal(t, []string{"decide", "get_run", "list_pending_decisions", "send_campaign_results", "send_event", "start_agent", "start_compliance", "start_invoice", "start_leave",
		"start_ticket_routing"}, names)

	key := fmt.Sprintf("mcp-%d", time.Now().UnixNano())
	start := map[string]any{"idempotencyKey": key, "input": map[string]any{
		"ticket": map[string]any{"subject": "Parcel lost", "body": "My parcel never came.", "customer": "Dana Wells", "channel": "email", "email": "dana.wells@example.com"},
		"model":  map[string]any{"model": "scripted", "taskQueue": td.cfg.ModelTaskQueue}}}
	started, problem := callTool(t, intern, "start_ticket_routing", start)
	require.Empty(t, problem)
	id := started["workflowId"].(string)
	assert.Equal(t, api.WorkflowID("ticket-routing", key), id)
	again, _ := callTool(t, lead, "start_ticket_routing", start)
	assert.Equal(t, true, again["existing"], "the same key returns the same run")

	require.Eventually(t, func() bool {
		list, _ := callTool(t, lead, "list_pending_decisions", map[string]any{})
		return strings.Contains(fmt.Sprint(list["pending"]), id)
	}, time.Minute, 200*time.Millisecond, "the review waits for a person")

	_, problem = callTool(t, intern, "decide", map[string]any{"workflowId": id, "approve": true})
	assert.Equal(t, "refused: intern may not decide this; one of support.agent, support.lead may", problem, "a caller who may not decide is refused")

	decided, problem := callTool(t, lead, "decide", map[string]any{"workflowId": id, "approve": true, "reason": "fine"})
	require.Empty(t, problem)
	assert.Equal(t, id, decided["workflowId"])
	var run map[string]any
	require.Eventually(t, func() bool {
		run, _ = callTool(t, lead, "get_run", map[string]any{"workflowId": id})
		return run["status"] == "Completed"
	}, time.Minute, 200*time.Millisecond)
	review := run["result"].(map[string]any)["review"].(map[string]any)
	assert.Equal(t, true, review["sent"])
	assert.Equal(t, "support.lead", review["decision"].(map[string]any)["by"])
}

// TestTheMCPInspectorDrivesStarterMCP drives `starter mcp` over stdio with
// the MCP Inspector's CLI: it lists the tools, starts a ticket routing,
// decides its review as the person starter mcp acts for, and reads the
// result.
func TestTheMCPInspectorDrivesStarterMCP(t *testing.T) {
	t.Parallel()
	td, _ := scriptedTandem(t, "mcp-inspector", urgentTickets)
	inspector := testenv.MCPServerBin(t, "mcp-inspector")
	starter := buildStarter(t)
	inspect := func(args ...string) string {
		t.Helper()
		cli := []string{"--cli"}
		for _, kv := range td.env() {
			if strings.HasPrefix(kv, "TEMPORAL_") || strings.HasPrefix(kv, "TANDEM_") {
				cli = append(cli, "-e", kv)
			}
		}
		cmd := exec.Command(inspector, append(append(cli, starter, "mcp", "--as", "support.lead"), args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	assert.Contains(t, inspect("--method", "tools/list"), `"start_ticket_routing"`)

	key := fmt.Sprintf("inspector-%d", time.Now().UnixNano())
	input := fmt.Sprintf(`{"ticket":{"subject":"Parcel lost","body":"It never came.","customer":"Dana Wells","channel":"email","email":"dana.wells@example.com"},`+
		`"model":{"model":"scripted","taskQueue":%q}}`, td.cfg.ModelTaskQueue)
	started := inspect("--method", "tools/call", "--tool-name", "start_ticket_routing", "--tool-arg", "idempotencyKey="+key, "input="+input)
	id := api.WorkflowID("ticket-routing", key)
	assert.Contains(t, started, id)

	require.Eventually(t, func() bool {
		return strings.Contains(inspect("--method", "tools/call", "--tool-name", "get_run", "--tool-arg", "workflowId="+id), `\"pending\"`)
	}, time.Minute, 500*time.Millisecond)
	inspect("--method", "tools/call", "--tool-name", "decide", "--tool-arg", "workflowId="+id, "approve=true", "reason=fine")
	var result string
	require.Eventually(t, func() bool {
		result = inspect("--method", "tools/call", "--tool-name", "get_run", "--tool-arg", "workflowId="+id)
		return strings.Contains(result, `\"status\":\"Completed\"`)
	}, time.Minute, 500*time.Millisecond)
	assert.Contains(t, result, `\"by\":\"support.lead\"`)
}
