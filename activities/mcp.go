package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/tandemhq/tandem/internal/mcptools"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/text"
)

// MCPTool is one tool of an MCP server as a run's catalogue holds it: its
// name server.tool, what the model is told, and what the policy makes of
// its risk.
type MCPTool struct {
	Name        string          `json:"name"`
	Server      string          `json:"server"`
	Tool        string          `json:"tool"`
	Description string          `json:"description"`
	Args        json.RawMessage `json:"args"`
	Risk        ToolRisk        `json:"risk"`
	Idempotent  bool            `json:"idempotent,omitempty"`
	// NeedsApproval: it changes things and its server is not trusted.
	NeedsApproval bool `json:"needsApproval,omitempty"`
}

// MCPCatalogue is the MCP tools a run may use, fetched at its start and
// recorded in its history, so that a server that changes its tools does
// not change a running agent; and the tools left out, each with why.
type MCPCatalogue struct {
	Tools   []MCPTool `json:"tools"`
	Refused []string  `json:"refused,omitempty"`
}

// MCPCall is one call of an MCP tool by an agent step.
type MCPCall struct {
	ToolCall
	Server     string   `json:"server"`
	Tool       string   `json:"tool"`
	Risk       ToolRisk `json:"risk"`
	Idempotent bool     `json:"idempotent,omitempty"`
}

// ErrMCPResultTooLarge is the application error type of a call whose
// result is over the data policy's limit.
const ErrMCPResultTooLarge = "MCPResultTooLarge"

// ListMCPTools fetches the tools of the servers the patterns name (such as
// files.* or files.read_text_file) that match them, in the shape the
// agent catalogue takes.
func (t *Tools) ListMCPTools(ctx context.Context, patterns []string) (MCPCatalogue, error) {
	var servers []string
	for _, p := range patterns {
		if server, _, ok := policy.SplitMCPTool(p); ok && !slices.Contains(servers, server) {
			servers = append(servers, server)
		}
	}
	slices.Sort(servers)
	var cat MCPCatalogue
	for _, server := range servers {
		found, err := t.mcpCatalogueOf(ctx, server)
		if err != nil {
			return MCPCatalogue{}, err
		}
		for _, tool := range found.Tools {
			if slices.ContainsFunc(patterns, func(p string) bool { return policy.MatchTool(p, tool.Name) }) {
				cat.Tools = append(cat.Tools, tool)
			}
		}
		cat.Refused = append(cat.Refused, found.Refused...)
	}
	return cat, nil
}

// mcpCatalogueOf lists one server's tools in catalogue shape; a tool whose
// schema a model cannot follow is refused with a sentence naming it.
func (t *Tools) mcpCatalogueOf(ctx context.Context, server string) (MCPCatalogue, error) {
	if t.MCP == nil {
		return MCPCatalogue{}, nonRetryable(ErrToolInput, "this worker has no MCP servers; declare them in the data policy's mcp.servers")
	}
	cfg, ok := t.MCP.Server(server)
	if !ok {
		return MCPCatalogue{}, nonRetryable(ErrToolInput, "there is no MCP server %q in the data policy's mcp.servers", server)
	}
	tools, err := t.MCP.Tools(ctx, server)
	if err != nil {
		return MCPCatalogue{}, err
	}
	var cat MCPCatalogue
	for _, tool := range tools {
		name := server + "." + tool.Name
		args, _, err := mcptools.Simplify(tool.InputSchema)
		if err != nil {
			cat.Refused = append(cat.Refused, fmt.Sprintf("MCP tool %s is left out: %v", name, err))
			continue
		}
		risk := ToolRisk(cmp.Or(cfg.RiskOf(tool.Name), mcptools.RiskFromAnnotations(tool.Annotations)))
		cat.Tools = append(cat.Tools, MCPTool{Name: name, Server: server, Tool: tool.Name,
			Description: cmp.Or(text.Flatten(tool.Description), tool.Title, tool.Name), Args: args, Risk: risk,
			Idempotent: mcptools.Idempotent(tool.Annotations), NeedsApproval: risk != RiskRead && !cfg.Trusted})
	}
	return cat, nil
}

// CallMCPTool calls an MCP tool once per run and step. A retry after the
// call finished returns its first result; a retry after a worker stopped
// during the call calls again only a tool whose annotations say that is
// harmless. A sandboxed run calls read-only tools and records the others.
func (t *Tools) CallMCPTool(ctx context.Context, call MCPCall) (ToolResult, error) {
	if t.MCP == nil {
		return ToolResult{}, nonRetryable(ErrToolInput, "this worker has no MCP servers; declare them in the data policy's mcp.servers")
	}
	cfg, ok := t.MCP.Server(call.Server)
	if !ok {
		return ToolResult{}, nonRetryable(ErrToolInput, "there is no MCP server %q in this worker's data policy", call.Server)
	}
	if call.Risk != RiskRead {
		if sim, err := t.Store.simulated(ctx, "mcp:"+call.Name, call.key(), call.RunKey, call); sim {
			return ToolResult{Observation: fmt.Sprintf("sandbox: %s %s was recorded, not called", call.Name, call.Args)}, err
		}
	}
	key := call.key()
	earlier, begun, err := t.Store.Records.BeginMCPCall(ctx, store.MCPCall{Key: key, Server: call.Server, Tool: call.Tool, ArgsDigest: ArgsDigest(call.Args)})
	if err != nil {
		return ToolResult{}, err
	}
	if !begun {
		switch {
		case earlier.Status == store.MCPDone:
			var res ToolResult
			if err := json.Unmarshal([]byte(earlier.Result), &res); err != nil {
				return ToolResult{}, fmt.Errorf("decode the recorded result of MCP call %s: %w", key, err)
			}
			return res, nil
		case !call.Idempotent:
			res := ToolResult{Observation: fmt.Sprintf("the outcome of %s is unknown: the worker stopped during the call, and the tool "+
				"does not say a second call is harmless, so it was not made again; check its effect before calling it again", call.Name)}
			return res, t.finishMCPCall(ctx, key, res)
		}
	}
	res, err := t.callMCP(ctx, cfg, call)
	if err != nil {
		var notStarted *mcptools.NotStartedError
		if errors.As(err, &notStarted) {
			if ferr := t.Store.Records.ForgetMCPCall(ctx, key); ferr != nil {
				return ToolResult{}, ferr
			}
		}
		return ToolResult{}, err
	}
	return res, t.finishMCPCall(ctx, key, res)
}

func (t *Tools) finishMCPCall(ctx context.Context, key string, res ToolResult) error {
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return t.Store.Records.FinishMCPCall(ctx, key, string(body))
}

// callMCP makes the call, heartbeating while it waits, and turns the
// result into an observation within the policy's limit.
func (t *Tools) callMCP(ctx context.Context, cfg policy.MCPServer, call MCPCall) (ToolResult, error) {
	stop := heartbeatWhile(ctx, 5*time.Second, nil)
	result, err := t.MCP.Call(ctx, call.Server, call.Tool, call.Args)
	stop()
	if err != nil {
		return ToolResult{}, err
	}
	text := resultText(result)
	if limit := cfg.ResultLimit(); len(text) > limit {
		p := message.NewPrinter(language.English)
		return ToolResult{}, nonRetryable(ErrMCPResultTooLarge, "%s", p.Sprintf("the result of %s is %d characters, over the %d that the data policy "+
			"allows for server %s (maxResult); ask for less of it", call.Name, len(text), limit, call.Server))
	}
	if result.IsError {
		text = "the tool reported an error: " + text
	}
	var read []string
	if call.Risk == RiskRead {
		read = []string{call.Name}
	}
	return t.bounded(ctx, "mcp/"+call.key(), text, read)
}

// resultText is what a call returned, as text: its text content, a line
// for each other kind of content, or its structured content as JSON.
func resultText(r *mcp.CallToolResult) string {
	var parts []string
	for _, c := range r.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, c.Text)
		case *mcp.ImageContent:
			parts = append(parts, fmt.Sprintf("[an image, %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *mcp.AudioContent:
			parts = append(parts, fmt.Sprintf("[audio, %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *mcp.ResourceLink:
			parts = append(parts, fmt.Sprintf("[a resource: %s %s]", c.Name, c.URI))
		case *mcp.EmbeddedResource:
			if c.Resource != nil && c.Resource.Text != "" {
				parts = append(parts, c.Resource.Text)
			} else if c.Resource != nil {
				parts = append(parts, fmt.Sprintf("[a resource: %s, %d bytes]", c.Resource.URI, len(c.Resource.Blob)))
			}
		}
	}
	if len(parts) == 0 && r.StructuredContent != nil {
		b, _ := json.Marshal(r.StructuredContent)
		return string(b)
	}
	return strings.Join(parts, "\n")
}

// ArgsDigest names a call's arguments in the audit without showing them:
// the SHA-256 of their canonical JSON.
func ArgsDigest(args json.RawMessage) string {
	canonical := []byte(args)
	var v any
	if json.Unmarshal(args, &v) == nil {
		canonical, _ = json.Marshal(v)
	}
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckMCPServers lists every declared server's tools, as the worker
// starts, and says in a line each what they become: how many tools join
// the catalogue, which schemas were simplified and how, which tools are
// left out and why, and which servers cannot be reached.
func CheckMCPServers(ctx context.Context, pool *mcptools.Pool) []string {
	var lines []string
	for _, server := range pool.Names() {
		tools, err := pool.Tools(ctx, server)
		if err != nil {
			lines = append(lines, err.Error()+"; agents that use it end their runs saying so until it can be reached")
			continue
		}
		offered := 0
		for _, tool := range tools {
			name := server + "." + tool.Name
			_, warnings, err := mcptools.Simplify(tool.InputSchema)
			switch {
			case err != nil:
				lines = append(lines, fmt.Sprintf("MCP tool %s is left out: %v", name, err))
				continue
			case len(warnings) > 0:
				lines = append(lines, fmt.Sprintf("MCP tool %s: its schema is simplified for the model (%s)", name, strings.Join(warnings, "; ")))
			}
			offered++
		}
		lines = append(lines, fmt.Sprintf("MCP server %s: %d of its %d tools can join the agent catalogue as %s.TOOL", server, offered, len(tools), server))
	}
	return lines
}
