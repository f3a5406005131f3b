// Package mcptest is an MCP server for tests, spoken to over stdio by
// re-running the test binary: tools that return personal data, a result of
// any size, and one that crashes the server mid-call.
package mcptest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tandemhq/tandem/internal/policy"
)

// envServe, set in a test binary's environment, makes it this server.
const envServe = "TANDEM_TEST_MCP_SERVER"

// ServeIfAsked serves MCP over stdio and exits when the test binary was
// started as the test server; call it first in TestMain.
func ServeIfAsked() {
	if os.Getenv(envServe) == "" {
		return
	}
	if err := NewServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Server declares the test binary, re-run as this server, as MCP server
// name for a data policy.
func Server(name string) policy.MCPServer {
	return policy.MCPServer{Name: name, Command: os.Args[0], Args: []string{"-test.run=^$"}, Env: []string{envServe + "=1"}}
}

// ContactArgs asks for a customer's contact details.
type ContactArgs struct {
	Customer string `json:"customer" jsonschema:"the customer's name"`
}

// SizeArgs asks for a result of a given length.
type SizeArgs struct {
	Characters int `json:"characters" jsonschema:"how many characters to return"`
}

// SlowWriteArgs asks for a file to be written after a while.
type SlowWriteArgs struct {
	Path    string `json:"path" jsonschema:"the file to write"`
	Content string `json:"content" jsonschema:"what to write"`
	Seconds int    `json:"seconds" jsonschema:"how long to take"`
}

// Contact is the personal data the contact tool returns.
const Contact = "Dana Whitfield, dana.whitfield@example.org, +44 20 7946 0958"

// NewServer is the test server: contact (personal data), sized (a result
// of a given length), slow_write (a write that takes a while), crash (the
// server exits during the call).
func NewServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "tandem-test", Version: "1"}, nil)
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	mcp.AddTool(s, &mcp.Tool{Name: "contact", Description: "A customer's contact details.", Annotations: readOnly},
		func(_ context.Context, _ *mcp.CallToolRequest, a ContactArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "On file for " + a.Customer + ": " + Contact}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "sized", Description: "A text of the given length.", Annotations: readOnly},
		func(_ context.Context, _ *mcp.CallToolRequest, a SizeArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", a.Characters)}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "slow_write", Description: "Writes a file after a while; each finished write adds a line to PATH.writes.",
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true, OpenWorldHint: new(bool)}},
		func(_ context.Context, _ *mcp.CallToolRequest, a SlowWriteArgs) (*mcp.CallToolResult, any, error) {
			time.Sleep(time.Duration(a.Seconds) * time.Second)
			if err := os.WriteFile(a.Path, []byte(a.Content), 0o600); err != nil {
				return nil, nil, err
			}
			log, err := os.OpenFile(a.Path+".writes", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return nil, nil, err
			}
			defer log.Close()
			fmt.Fprintln(log, "written")
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "wrote " + a.Path}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "crash", Description: "Stops the server during the call.",
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true, OpenWorldHint: new(bool)}},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			fmt.Fprintln(os.Stderr, "test server: crashing as asked")
			os.Exit(3)
			return nil, nil, nil
		})
	return s
}
