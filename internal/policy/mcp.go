package policy

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MCP declares the Model Context Protocol servers whose tools agents may
// use, in the policy itself or in a tools file it names. Each server's
// tools join the agent catalogue as server.tool.
type MCP struct {
	// File is a tools file with more servers (a YAML list under servers:),
	// relative to the policy file.
	File    string      `yaml:"file" json:"file,omitempty"`
	Servers []MCPServer `yaml:"servers" json:"servers"`
}

// MCPServer is one MCP server: a command spoken to over stdio, or a
// streamable-HTTP URL with a bearer token read from the environment or a
// file when a call is made, so that it never enters a run's history.
type MCPServer struct {
	Name      string   `yaml:"name" json:"name"`
	Command   string   `yaml:"command" json:"command,omitempty"`
	Args      []string `yaml:"args" json:"args,omitempty"`
	Env       []string `yaml:"env" json:"env,omitempty"` // KEY=VALUE, besides the worker's environment
	URL       string   `yaml:"url" json:"url,omitempty"`
	TokenEnv  string   `yaml:"tokenEnv" json:"tokenEnv,omitempty"`   // the variable holding the bearer token
	TokenFile string   `yaml:"tokenFile" json:"tokenFile,omitempty"` // or the file holding it
	// Timeout bounds one call; Attempts is how often a failed call is tried
	// in all; MaxResult is the longest result, in characters, a call may
	// return (a longer one is refused; one over a screenful is stored and
	// travels by reference).
	Timeout   Duration `yaml:"timeout" json:"timeout,omitempty"`
	Attempts  int      `yaml:"attempts" json:"attempts,omitempty"`
	MaxResult int      `yaml:"maxResult" json:"maxResult,omitempty"`
	// Trusted servers' tools that change things run without a person's
	// approval, unless requireApproval names them; others always ask.
	Trusted bool `yaml:"trusted" json:"trusted,omitempty"`
	// Risk overrides what the tools' annotations say they do.
	Risk []RiskRule `yaml:"risk" json:"risk,omitempty"`
}

// RiskRule sets the risk of the server's tools whose names match Tool, a
// glob such as write_* or *.
type RiskRule struct {
	Tool string `yaml:"tool" json:"tool"`
	Risk string `yaml:"risk" json:"risk"` // read, write or external
}

// Defaults of an MCP server's calls.
const (
	DefaultMCPTimeout   = time.Minute
	DefaultMCPAttempts  = 3
	DefaultMCPMaxResult = 100_000
)

// CallTimeout is how long one call of the server's tools may take.
func (s MCPServer) CallTimeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultMCPTimeout
	}
	return time.Duration(s.Timeout)
}

// CallAttempts is how often a failed call is tried in all.
func (s MCPServer) CallAttempts() int {
	if s.Attempts <= 0 {
		return DefaultMCPAttempts
	}
	return s.Attempts
}

// ResultLimit is the longest result a call may return, in characters.
func (s MCPServer) ResultLimit() int {
	if s.MaxResult <= 0 {
		return DefaultMCPMaxResult
	}
	return s.MaxResult
}

// RiskOf is the risk the policy sets for the server's tool, or "" when it
// leaves it to the tool's annotations.
func (s MCPServer) RiskOf(tool string) string {
	risk := ""
	for _, r := range s.Risk {
		if ok, _ := path.Match(r.Tool, tool); ok {
			risk = r.Risk
		}
	}
	return risk
}

// Transport says how the server is reached, for messages.
func (s MCPServer) Transport() string {
	if s.URL != "" {
		return "streamable HTTP at " + s.URL
	}
	return "stdio, command " + strconv.Quote(s.Command)
}

// MCPServerNamed finds a declared server.
func (p Policy) MCPServerNamed(name string) (MCPServer, bool) {
	for _, s := range p.MCP.Servers {
		if s.Name == name {
			return s, true
		}
	}
	return MCPServer{}, false
}

// SplitMCPTool splits server.tool; ok is false for a built-in tool's name.
func SplitMCPTool(name string) (server, tool string, ok bool) {
	return strings.Cut(name, ".")
}

// MatchTool reports whether a policy's tool pattern names tool: the same
// name, or for MCP tools a glob such as files.read_* or files.*.
func MatchTool(pattern, tool string) bool {
	if pattern == tool {
		return true
	}
	if _, _, mcp := SplitMCPTool(pattern); !mcp {
		return false
	}
	ok, _ := path.Match(pattern, tool)
	return ok
}

var serverName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// loadMCPFile reads the servers of the tools file the policy names, placed
// beside the policy file.
func loadMCPFile(source string, p *Policy) error {
	if p.MCP.File == "" {
		return nil
	}
	file := p.MCP.File
	if !filepath.IsAbs(file) && source != builtIn {
		file = filepath.Join(filepath.Dir(source), file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return &Error{Source: source, Field: "mcp.file", Problem: fmt.Sprintf("cannot read the MCP tools file: %v", err)}
	}
	var tf struct {
		Servers []MCPServer `yaml:"servers"`
	}
	if _, err := DecodeYAML("", file, data, &tf); err != nil {
		return err
	}
	p.MCP.Servers = append(p.MCP.Servers, tf.Servers...)
	return nil
}

// checkMCP checks the declared servers, named by their place in the policy.
func (c *checker) checkMCP(p Policy) {
	seen := map[string]bool{}
	for i, s := range p.MCP.Servers {
		at := func(field ...string) []string { return append([]string{"mcp", "servers", strconv.Itoa(i)}, field...) }
		switch {
		case !serverName.MatchString(s.Name):
			c.fail(fmt.Sprintf("%q is not a usable server name; use lower-case letters, digits, - and _, like files", s.Name), at("name")...)
		case seen[s.Name]:
			c.fail(fmt.Sprintf("server %q is declared twice", s.Name), at("name")...)
		case (s.Command == "") == (s.URL == ""):
			c.fail(fmt.Sprintf("server %s needs either a command (stdio) or a url (streamable HTTP), not both and not neither", s.Name), at()...)
		case s.URL != "" && !isHTTPURL(s.URL):
			c.fail(fmt.Sprintf("%q is not an http or https URL", s.URL), at("url")...)
		case s.Command != "" && (s.TokenEnv != "" || s.TokenFile != ""):
			c.fail(fmt.Sprintf("server %s runs a command; a bearer token is for servers reached by url", s.Name), at()...)
		case s.TokenEnv != "" && s.TokenFile != "":
			c.fail(fmt.Sprintf("server %s names both tokenEnv and tokenFile; give one", s.Name), at()...)
		case s.Attempts < 0 || s.MaxResult < 0:
			c.fail("attempts and maxResult cannot be negative; leave them out for the defaults", at()...)
		}
		seen[s.Name] = true
		for j, kv := range s.Env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				c.fail(fmt.Sprintf("%q is not KEY=VALUE", kv), at("env", strconv.Itoa(j))...)
			}
		}
		for j, r := range s.Risk {
			if _, err := path.Match(r.Tool, ""); err != nil || r.Tool == "" {
				c.fail(fmt.Sprintf("%q is not a tool name or glob such as write_*", r.Tool), at("risk", strconv.Itoa(j), "tool")...)
			}
			if r.Risk != "read" && r.Risk != "write" && r.Risk != "external" {
				c.fail(fmt.Sprintf("risk %q is not one of read, write, external", r.Risk), at("risk", strconv.Itoa(j), "risk")...)
			}
		}
	}
}

// CheckToolPattern explains why a tool pattern names no tool, or returns
// "": a built-in tool's name, or server.glob of a server the policy declares.
func CheckToolPattern(p Policy, pattern string, knownTools []string) string {
	server, glob, mcp := SplitMCPTool(pattern)
	if !mcp {
		for _, t := range knownTools {
			if t == pattern {
				return ""
			}
		}
		return fmt.Sprintf("there is no tool %q; the tools are %s, and MCP tools are named server.tool", pattern, strings.Join(knownTools, ", "))
	}
	if _, ok := p.MCPServerNamed(server); !ok {
		return fmt.Sprintf("%q names MCP server %q, which mcp.servers does not declare", pattern, server)
	}
	if _, err := path.Match(glob, ""); err != nil || glob == "" {
		return fmt.Sprintf("%q is not server.tool or a glob such as %s.read_*", pattern, server)
	}
	return ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
