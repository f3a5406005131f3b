package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/shopspring/decimal"

	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// MCPServer is Tandem as an MCP server for caller, the person its tools act
// for: other agents (desktop assistants, IDE agents) start runs of every
// kind with an idempotency key, read a run's status and result, list the
// decisions that wait for a person, and decide them as caller, which a
// run allows only when caller is one of its approvers.
func (s *Server) MCPServer(caller string) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "tandem", Title: "Tandem durable workflows and agents", Version: "1"},
		&mcp.ServerOptions{Instructions: "Tandem runs business workflows and agents durably on Temporal, with people deciding at named points. " +
			"Start a run with a start_* tool and an idempotency key (the same key returns the same run), follow it with get_run, " +
			"and decide what waits for a person with decide."})
	for _, kind := range Kinds {
		s.addStartTool(srv, kind)
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "get_run", Description: "A run's status, its current step, the decision it waits for, and once it ended its result.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(bool)}},
		func(ctx context.Context, _ *mcp.CallToolRequest, in RunRef) (*mcp.CallToolResult, any, error) {
			return answer(s.view(ctx, in.WorkflowID))
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "list_pending_decisions", Description: "The runs waiting for a person, with what each asks and who may decide.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(bool)}},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			list, err := s.Client.PendingDecisions(ctx, s.Namespace)
			if list == nil {
				list = []Pending{}
			}
			return answer(PendingList{Pending: list}, err)
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "decide", Description: fmt.Sprintf("Approve or reject what a run waits for, as %s; "+
		"a run accepts the decision only from one of its approvers.", caller),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(bool), OpenWorldHint: new(bool)}},
		func(ctx context.Context, _ *mcp.CallToolRequest, in DecideRequest) (*mcp.CallToolResult, any, error) {
			d := runs.Decision{Approve: in.Approve, By: caller, Reason: in.Reason, Edit: in.Edit, Hash: in.Hash, Always: in.Always}
			if err := s.Client.Decide(ctx, in.WorkflowID, d); err != nil {
				return toolError(err), nil, nil
			}
			return answer(s.view(ctx, in.WorkflowID))
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "send_event", Description: "Deliver an event (results that arrived, a payment, a reply) to a running agent; " +
		"it wakes the agent when it sleeps.", Annotations: &mcp.ToolAnnotations{DestructiveHint: new(bool), OpenWorldHint: new(bool)}},
		func(ctx context.Context, _ *mcp.CallToolRequest, in EventRequest) (*mcp.CallToolResult, any, error) {
			if err := s.Client.Event(ctx, in.WorkflowID, runs.AgentEvent{Name: in.Name, From: caller, Data: in.Data}); err != nil {
				return toolError(err), nil, nil
			}
			return answer(s.view(ctx, in.WorkflowID))
		})
	resultsSchema, err := jsonschema.For[CampaignResultsToolInput](inputSchemas)
	if err != nil {
		resultsSchema = &jsonschema.Schema{Type: "object"}
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "send_campaign_results", Description: "Deliver a campaign's results to the agent running it; " +
		"the run keeps them once per campaign and batch, and wakes.", InputSchema: resultsSchema,
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(bool), OpenWorldHint: new(bool)}},
		func(ctx context.Context, _ *mcp.CallToolRequest, in CampaignResultsToolInput) (*mcp.CallToolResult, any, error) {
			if err := s.Client.CampaignResults(ctx, in.WorkflowID, caller, in.CampaignResults); err != nil {
				return toolError(err), nil, nil
			}
			return answer(s.view(ctx, in.WorkflowID))
		})
	return srv
}

// CampaignResultsToolInput is a campaign's results through the MCP
// server, reported by the caller.
type CampaignResultsToolInput struct {
	WorkflowID string `json:"workflowId" jsonschema:"the marketing agent's run"`
	workflows.CampaignResults
}

// EventRequest is an event through the MCP server, delivered from the caller.
type EventRequest struct {
	WorkflowID string `json:"workflowId" jsonschema:"the agent run to deliver it to"`
	Name       string `json:"name" jsonschema:"what happened, in one word, such as campaign-results"`
	Data       string `json:"data,omitempty" jsonschema:"what it says, as text or JSON"`
}

// RunRef names a run.
type RunRef struct {
	WorkflowID string `json:"workflowId" jsonschema:"the run's workflow id, as a start_* tool returned it"`
}

// DecideRequest is a decision through the MCP server; who decides is the
// caller the server acts for, never an argument.
type DecideRequest struct {
	WorkflowID string `json:"workflowId" jsonschema:"the run that waits for a decision"`
	Approve    bool   `json:"approve" jsonschema:"true to approve, false to reject"`
	Reason     string `json:"reason,omitempty" jsonschema:"why, for the audit trail"`
	Edit       string `json:"edit,omitempty" jsonschema:"for an agent's tool call: the arguments to run instead, as JSON"`
	Hash       string `json:"hash,omitempty" jsonschema:"the pending decision's hash, as reviewed: refused when what waits has changed since"`
	Always     bool   `json:"always,omitempty" jsonschema:"for an agent's tool call: approve the tool for the rest of the run"`
}

// PendingList is the decisions waiting for a person.
type PendingList struct {
	Pending []Pending `json:"pending"`
}

// startArgs is a start tool's arguments: the HTTP API's start request,
// with the input of the tool's kind.
type startArgs struct {
	IdempotencyKey string          `json:"idempotencyKey"`
	Input          json.RawMessage `json:"input"`
	Sandbox        bool            `json:"sandbox,omitempty"`
}

// inputSchemas derives the MCP tools' input schemas from the HTTP API's
// types, with the schema of each type whose JSON is its own.
var inputSchemas = &jsonschema.ForOptions{IgnoreInvalidTypes: true,
	TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[decimal.Decimal](): {Types: []string{"number", "string"}, Description: "an exact amount, such as 300.00"},
		reflect.TypeFor[time.Duration]():   {Type: "string", Description: "a duration such as 30m or 2h"},
		reflect.TypeFor[json.RawMessage](): {},
	}}

// addStartTool adds start_KIND, whose input schema is the kind's input
// type, the one the HTTP API decodes.
func (s *Server) addStartTool(srv *mcp.Server, kind Kind) {
	inputSchema, err := jsonschema.ForType(reflect.TypeOf(kind.newInput()).Elem(), inputSchemas)
	if err != nil {
		inputSchema = &jsonschema.Schema{Type: "object"}
	}
	inputSchema.Description = "the " + kind.Name + " input, as the HTTP API's POST /v1/runs takes it"
	tool := &mcp.Tool{
		Name: "start_" + strings.ReplaceAll(kind.Name, "-", "_"),
		Description: fmt.Sprintf("Start a %s run (workflow %s). The idempotency key names the run: "+
			"starting again with the same key and input returns the same run.", kind.Name, kind.Workflow),
		InputSchema: &jsonschema.Schema{Type: "object", Required: []string{"idempotencyKey", "input"}, Properties: map[string]*jsonschema.Schema{
			"idempotencyKey": {Type: "string", Description: "names the run; 1 to 200 characters"},
			"input":          inputSchema,
			"sandbox":        {Type: "boolean", Description: "record side effects instead of performing them"},
		}},
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true, OpenWorldHint: new(bool)},
	}
	srv.AddTool(tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args startArgs
		if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
			return toolError(fmt.Errorf("the arguments are not a start request: %v", err)), nil
		}
		view, _, err := s.start(ctx, StartRequest{Kind: kind.Name, IdempotencyKey: args.IdempotencyKey, Input: args.Input, Sandbox: args.Sandbox})
		res, _, err := answer(view, err)
		return res, err
	})
}

// answer is a tool's result: v as JSON text and structured content, or
// the error as the tool's error text, which the calling agent reads.
func answer(v any, err error) (*mcp.CallToolResult, any, error) {
	if err != nil {
		return toolError(err), nil, nil
	}
	res, err := structured(v)
	return res, nil, err
}

func toolError(err error) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}}
}

func structured(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b)}, nil
}

// MCPHandler serves the MCP server over streamable HTTP; each request's
// bearer token names the caller, by MCPCallers.
func (s *Server) MCPHandler() http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		return s.MCPServer(callerOf(r))
	}, &mcp.StreamableHTTPOptions{Stateless: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		caller, ok := s.mcpCaller(token)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tandem-mcp"`)
			writeError(w, http.StatusUnauthorized, "missing or unknown bearer token; send Authorization: Bearer <a token of TANDEM_MCP_TOKENS_FILE>")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

type callerKey struct{}

func callerOf(r *http.Request) string {
	c, _ := r.Context().Value(callerKey{}).(string)
	return c
}

// mcpCaller finds the person a token stands for, comparing in constant time.
func (s *Server) mcpCaller(token string) (string, bool) {
	found := ""
	for t, who := range s.MCPCallers {
		if token != "" && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			found = who
		}
	}
	return found, found != ""
}

// LoadMCPCallers reads the MCP endpoint's tokens: one line per caller,
// the person's name and their token, with # comments.
func LoadMCPCallers(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the MCP tokens file: %w; set TANDEM_MCP_TOKENS_FILE to a file of NAME TOKEN lines", err)
	}
	callers := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || len(fields[1]) < 16 {
			return nil, fmt.Errorf("MCP tokens file %s, line %d: write the caller's name and a token of at least 16 characters, separated by a space", path, i+1)
		}
		callers[fields[1]] = fields[0]
	}
	if len(callers) == 0 {
		return nil, errors.New("the MCP tokens file " + path + " names no caller; write one line per caller: NAME TOKEN")
	}
	return callers, nil
}
