// Package mcptools connects agents to the tools of the Model Context
// Protocol servers that the data policy declares: it keeps one session per
// server, lists and calls tools, and turns their input schemas into the
// subset of JSON schema that a model's structured output takes.
package mcptools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/text"
)

// connectTimeout bounds starting a server and its handshake.
const connectTimeout = 30 * time.Second

// Pool holds a session with each declared server, started on first use and
// started again after the server fails.
type Pool struct {
	servers  map[string]policy.MCPServer
	client   *mcp.Client
	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	cs     *mcp.ClientSession
	stderr *tail // what a stdio server wrote to stderr, for messages
}

// NewPool returns a pool for the servers; nothing is started yet.
func NewPool(servers []policy.MCPServer, version string) *Pool {
	p := &Pool{servers: map[string]policy.MCPServer{}, sessions: map[string]*session{},
		client: mcp.NewClient(&mcp.Implementation{Name: "tandem", Version: version}, nil)}
	for _, s := range servers {
		p.servers[s.Name] = s
	}
	return p
}

// Names are the declared servers' names, in order.
func (p *Pool) Names() []string {
	names := make([]string, 0, len(p.servers))
	for name := range p.servers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Server is the declared server of that name.
func (p *Pool) Server(name string) (policy.MCPServer, bool) {
	s, ok := p.servers[name]
	return s, ok
}

// Tools lists every tool the server offers.
func (p *Pool) Tools(ctx context.Context, server string) ([]*mcp.Tool, error) {
	s, err := p.session(ctx, server)
	if err != nil {
		return nil, err
	}
	var tools []*mcp.Tool
	for t, err := range s.cs.Tools(ctx, nil) {
		if err != nil {
			p.failed(server, s)
			return nil, p.explain(server, s, "listing its tools", err)
		}
		tools = append(tools, t)
	}
	return tools, nil
}

// Call calls one tool. A failure of the server or the connection is an
// error, and the next call starts the server again; a tool that reports
// an error of its own returns a result with IsError set.
func (p *Pool) Call(ctx context.Context, server, tool string, args json.RawMessage) (*mcp.CallToolResult, error) {
	s, err := p.session(ctx, server)
	if err != nil {
		return nil, err
	}
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		p.failed(server, s)
		return nil, p.explain(server, s, "the call of "+tool, err)
	}
	return res, nil
}

// Close ends every session, stopping the servers it started.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, s := range p.sessions {
		_ = s.cs.Close()
		delete(p.sessions, name)
	}
}

// NotStartedError is a failure to reach a server at all: a call that
// fails with it never reached the server.
type NotStartedError struct{ Err error }

func (e *NotStartedError) Error() string { return e.Err.Error() }
func (e *NotStartedError) Unwrap() error { return e.Err }

func (p *Pool) session(ctx context.Context, name string) (*session, error) {
	s, err := p.start(ctx, name)
	if err != nil {
		return nil, &NotStartedError{Err: err}
	}
	return s, nil
}

func (p *Pool) start(ctx context.Context, name string) (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sessions[name]; ok {
		return s, nil
	}
	cfg, ok := p.servers[name]
	if !ok {
		return nil, fmt.Errorf("there is no MCP server %q in the data policy's mcp.servers", name)
	}
	transport, stderr, err := transportFor(cfg)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	cs, err := p.client.Connect(cctx, transport, nil)
	if err != nil {
		s := &session{stderr: stderr}
		return nil, p.explain(name, s, "starting", err)
	}
	s := &session{cs: cs, stderr: stderr}
	p.sessions[name] = s
	return s, nil
}

// failed forgets a session that failed, so that the next use starts anew,
// and closes it: a stdio server's process is waited for, so that all it
// wrote to stderr is there for the message.
func (p *Pool) failed(name string, s *session) {
	p.mu.Lock()
	if p.sessions[name] == s {
		delete(p.sessions, name)
	}
	p.mu.Unlock()
	_ = s.cs.Close()
}

// explain turns a failure of a server into one sentence: which server, how
// it is reached, what failed, and what it wrote to stderr.
func (p *Pool) explain(name string, s *session, during string, err error) error {
	cfg := p.servers[name]
	var what string
	var notFound *exec.Error
	var noFile *os.PathError
	switch {
	case errors.As(err, &notFound):
		what = fmt.Sprintf("MCP server %s could not be started: %q: %v; check its command in the data policy's mcp.servers", name, notFound.Name, notFound.Err)
	case errors.As(err, &noFile) && during == "starting":
		what = fmt.Sprintf("MCP server %s could not be started: %q: %v; check its command in the data policy's mcp.servers", name, noFile.Path, noFile.Err)
	case during == "starting":
		what = fmt.Sprintf("MCP server %s (%s) did not start: %v", name, cfg.Transport(), text.Flatten(err.Error()))
	default:
		what = fmt.Sprintf("MCP server %s (%s) failed during %s: %v", name, cfg.Transport(), during, text.Flatten(err.Error()))
	}
	if said := s.stderr.String(); said != "" {
		what += "; it wrote: " + said
	}
	return errors.New(what)
}

func transportFor(cfg policy.MCPServer) (mcp.Transport, *tail, error) {
	if cfg.URL != "" {
		token, err := bearerToken(cfg)
		if err != nil {
			return nil, nil, err
		}
		httpClient := &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}}
		return &mcp.StreamableClientTransport{Endpoint: cfg.URL, HTTPClient: httpClient, DisableStandaloneSSE: true, MaxRetries: -1}, nil, nil
	}
	cmd := exec.Command(cfg.Command, cfg.Args...)
	cmd.Env = append(os.Environ(), cfg.Env...)
	stderr := &tail{}
	cmd.Stderr = stderr
	diesWithWorker(cmd)
	return &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, stderr, nil
}

// bearerToken reads a server's token where the policy says, at connect
// time, so that it never enters a run's history.
func bearerToken(cfg policy.MCPServer) (string, error) {
	switch {
	case cfg.TokenEnv != "":
		token := strings.TrimSpace(os.Getenv(cfg.TokenEnv))
		if token == "" {
			return "", fmt.Errorf("MCP server %s needs a bearer token in $%s, which is empty; set it for the worker", cfg.Name, cfg.TokenEnv)
		}
		return token, nil
	case cfg.TokenFile != "":
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			return "", fmt.Errorf("MCP server %s needs a bearer token in %s, which cannot be read or is empty", cfg.Name, cfg.TokenFile)
		}
		return string(bytes.TrimSpace(b)), nil
	}
	return "", nil
}

// bearer adds the Authorization header to each request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// tail keeps the last few hundred bytes a server wrote to stderr.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 400

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = t.buf[len(t.buf)-tailSize:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return text.Flatten(string(t.buf))
}
