package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/mcptools"
	"github.com/tandemhq/tandem/internal/mcptools/mcptest"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/store/storetest"
	"github.com/tandemhq/tandem/internal/testenv"
)

// mcpTools is testTools with the MCP servers given.
func mcpTools(t *testing.T, servers ...policy.MCPServer) *Tools {
	tools := testTools(t)
	tools.MCP = mcptools.NewPool(servers, "test")
	t.Cleanup(tools.MCP.Close)
	return tools
}

func filesystemServer(t *testing.T, dir string) policy.MCPServer {
	return policy.MCPServer{Name: "files", Command: testenv.MCPServerBin(t, "mcp-server-filesystem"), Args: []string{dir}}
}

func mcpCall(t *testing.T, cat MCPCatalogue, step int, name, args string) MCPCall {
	for _, tool := range cat.Tools {
		if tool.Name == name {
			return MCPCall{ToolCall: ToolCall{RunKey: "agent-mcp", Step: step, Name: name, Args: json.RawMessage(args)},
				Server: tool.Server, Tool: tool.Tool, Risk: tool.Risk, Idempotent: tool.Idempotent}
		}
	}
	t.Fatalf("the catalogue has no %s", name)
	return MCPCall{}
}

func TestFilesystemServerToolsJoinTheCatalogueWithTheirRisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tools := mcpTools(t, filesystemServer(t, dir))
	cat, err := tools.ListMCPTools(context.Background(), []string{"files.read_text_file", "files.write_file", "files.list_*"})
	require.NoError(t, err)
	byName := map[string]MCPTool{}
	for _, tool := range cat.Tools {
		byName[tool.Name] = tool
	}
	assert.ElementsMatch(t, []string{"files.read_text_file", "files.write_file", "files.list_directory", "files.list_directory_with_sizes",
		"files.list_allowed_directories"}, keys(byName))
	assert.Equal(t, RiskRead, byName["files.read_text_file"].Risk)
	assert.False(t, byName["files.read_text_file"].NeedsApproval)
	assert.Equal(t, RiskWrite, byName["files.write_file"].Risk, "readOnlyHint false, openWorldHint false")
	assert.True(t, byName["files.write_file"].NeedsApproval, "a tool that changes things asks a person unless its server is trusted")
	assert.True(t, byName["files.write_file"].Idempotent)
	require.NoError(t, schema.Validate(byName["files.write_file"].Args, json.RawMessage(`{"path":"/x","content":"y"}`)))
	assert.Error(t, schema.Validate(byName["files.write_file"].Args, json.RawMessage(`{"path":"/x"}`)), "content is required")
}

func TestAnMCPCallIsMadeOnceAStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("the quarterly numbers are in"), 0o600))
	tools := mcpTools(t, filesystemServer(t, dir))
	ctx := context.Background()
	cat, err := tools.ListMCPTools(ctx, []string{"files.*"})
	require.NoError(t, err)

	read, err := tools.CallMCPTool(ctx, mcpCall(t, cat, 1, "files.read_text_file", fmt.Sprintf(`{"path":%q}`, filepath.Join(dir, "notes.txt"))))
	require.NoError(t, err)
	assert.Equal(t, "the quarterly numbers are in", read.Observation)
	assert.Equal(t, []string{"files.read_text_file"}, read.Read)

	target := filepath.Join(dir, "reply.txt")
	write := mcpCall(t, cat, 2, "files.write_file", fmt.Sprintf(`{"path":%q,"content":"first"}`, target))
	first, err := tools.CallMCPTool(ctx, write)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(target, []byte("changed since"), 0o600))
	again, err := tools.CallMCPTool(ctx, write)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a retried step returns the first result")
	body, _ := os.ReadFile(target)
	assert.Equal(t, "changed since", string(body), "and does not call the tool again")
	assert.Equal(t, "done", storetest.String(t, tools.Store.Records, `SELECT status FROM mcp_calls WHERE call_key = 'agent-mcp/2'`))
	assert.Equal(t, ArgsDigest(write.Args), storetest.String(t, tools.Store.Records, `SELECT args_digest FROM mcp_calls WHERE call_key = 'agent-mcp/2'`))

	move := mcpCall(t, cat, 3, "files.move_file", fmt.Sprintf(`{"source":%q,"destination":%q}`, target, target+".old"))
	_, _, err = tools.Store.Records.BeginMCPCall(ctx, mcpRecord(move)) // a worker started it and stopped
	require.NoError(t, err)
	res, err := tools.CallMCPTool(ctx, move)
	require.NoError(t, err)
	assert.Contains(t, res.Observation, "the outcome of files.move_file is unknown: the worker stopped during the call")
	assert.FileExists(t, target, "a call that may have happened and is not harmless twice is not made again")

	sandboxed := mcpCall(t, cat, 4, "files.write_file", fmt.Sprintf(`{"path":%q,"content":"sandboxed"}`, filepath.Join(dir, "sandbox.txt")))
	res, err = tools.CallMCPTool(sandbox.With(ctx, true), sandboxed)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.Observation, "sandbox: files.write_file"), res.Observation)
	assert.NoFileExists(t, filepath.Join(dir, "sandbox.txt"))
	read, err = tools.CallMCPTool(sandbox.With(ctx, true), mcpCall(t, cat, 5, "files.read_text_file", fmt.Sprintf(`{"path":%q}`, target)))
	require.NoError(t, err)
	assert.Equal(t, "changed since", read.Observation, "a sandboxed run still reads")
}

func mcpRecord(c MCPCall) store.MCPCall {
	return store.MCPCall{Key: c.key(), Server: c.Server, Tool: c.Tool, ArgsDigest: ArgsDigest(c.Args)}
}

func TestMCPFailuresAreOneSentence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := mcpTools(t, policy.MCPServer{Name: "ghost", Command: "/nonexistent/mcp-ghost"})
	_, err := missing.ListMCPTools(ctx, []string{"ghost.*"})
	require.Error(t, err)
	assert.Equal(t, `MCP server ghost could not be started: "/nonexistent/mcp-ghost": no such file or directory; check its command in the data policy's mcp.servers`, err.Error())

	failing := mcpTools(t, policy.MCPServer{Name: "broken", Command: "sh", Args: []string{"-c", "echo 'config missing: /etc/broken.toml' >&2; exit 2"}})
	_, err = failing.ListMCPTools(ctx, []string{"broken.*"})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `MCP server broken (stdio, command "sh") did not start: `), err.Error())
	assert.True(t, strings.HasSuffix(err.Error(), "it wrote: config missing: /etc/broken.toml"), err.Error())

	tools := mcpTools(t, mcptest.Server("test"))
	cat, err := tools.ListMCPTools(ctx, []string{"test.*"})
	require.NoError(t, err)
	_, err = tools.CallMCPTool(ctx, mcpCall(t, cat, 1, "test.crash", `{}`))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `MCP server test (stdio, command `), err.Error())
	assert.Contains(t, err.Error(), `failed during the call of crash: `)
	assert.True(t, strings.HasSuffix(err.Error(), "it wrote: test server: crashing as asked"), err.Error())
	res, err := tools.CallMCPTool(ctx, mcpCall(t, cat, 2, "test.contact", `{"customer":"Dana"}`))
	require.NoError(t, err, "the next call starts the server again")
	assert.Contains(t, res.Observation, mcptest.Contact)

	_, err = tools.CallMCPTool(ctx, mcpCall(t, cat, 3, "test.sized", `{"characters":150000}`))
	require.Error(t, err)
	assert.Equal(t, "the result of test.sized is 150,000 characters, over the 100,000 that the data policy allows for server test (maxResult); ask for less of it",
		applicationMessage(err))
	res, err = tools.CallMCPTool(ctx, mcpCall(t, cat, 4, "test.sized", `{"characters":5000}`))
	require.NoError(t, err)
	assert.Equal(t, "mcp/agent-mcp/4", res.Ref, "a long result is stored and travels by reference")
	assert.Equal(t, strings.Repeat("x", 5000), storetest.String(t, tools.Store.Records, `SELECT content FROM artifacts WHERE ref = 'mcp/agent-mcp/4'`))
}

func TestStreamableHTTPServerGetsTheBearerTokenFromTheEnvironment(t *testing.T) {
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcptest.NewServer() }, nil)
	var sawToken string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken = r.Header.Get("Authorization")
		if sawToken != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	server := policy.MCPServer{Name: "crm", URL: srv.URL, TokenEnv: "TANDEM_TEST_CRM_TOKEN"}

	t.Setenv("TANDEM_TEST_CRM_TOKEN", "")
	_, err := mcpTools(t, server).ListMCPTools(context.Background(), []string{"crm.*"})
	require.Error(t, err)
	assert.Equal(t, "MCP server crm needs a bearer token in $TANDEM_TEST_CRM_TOKEN, which is empty; set it for the worker", err.Error())

	t.Setenv("TANDEM_TEST_CRM_TOKEN", "s3cret")
	tools := mcpTools(t, server)
	cat, err := tools.ListMCPTools(context.Background(), []string{"crm.contact"})
	require.NoError(t, err)
	require.Len(t, cat.Tools, 1)
	res, err := tools.CallMCPTool(context.Background(), mcpCall(t, cat, 1, "crm.contact", `{"customer":"Dana"}`))
	require.NoError(t, err)
	assert.Contains(t, res.Observation, mcptest.Contact)
	assert.Equal(t, "Bearer s3cret", sawToken)
}

func TestEveryToolOfTheEverythingServerBecomesABranchOrIsRefusedByName(t *testing.T) {
	t.Parallel()
	tools := mcpTools(t, policy.MCPServer{Name: "everything", Command: testenv.MCPServerBin(t, "mcp-server-everything")})
	ctx := context.Background()
	listed, err := tools.MCP.Tools(ctx, "everything")
	require.NoError(t, err)
	cat, err := tools.ListMCPTools(ctx, []string{"everything.*"})
	require.NoError(t, err)
	require.Equal(t, len(listed), len(cat.Tools)+len(cat.Refused), "each tool is offered or refused")
	for _, tool := range listed {
		name := "everything." + tool.Name
		offered := false
		for _, c := range cat.Tools {
			if c.Name == name {
				offered = true
				require.NoError(t, schema.Check(c.Args), "%s: %s", name, c.Args)
			}
		}
		refused := false
		for _, r := range cat.Refused {
			refused = refused || strings.HasPrefix(r, "MCP tool "+name+" is left out: ")
		}
		assert.True(t, offered != refused, "%s is offered or refused by name, not both", name)
	}
	specs := make([]ToolSpec, len(cat.Tools))
	for i, c := range cat.Tools {
		specs[i] = ToolSpec{Name: c.Name, Description: c.Description, Args: c.Args}
	}
	require.NoError(t, schema.Check(decisionSchema(specs)), "the decision schema with every offered tool compiles")
	lines := CheckMCPServers(ctx, tools.MCP)
	assert.Contains(t, lines[len(lines)-1], fmt.Sprintf("MCP server everything: %d of its %d tools can join the agent catalogue", len(cat.Tools), len(listed)))
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func applicationMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
