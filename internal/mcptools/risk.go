package mcptools

import "github.com/modelcontextprotocol/go-sdk/mcp"

// Risks a tool can have, as the agent catalogue names them.
const (
	RiskRead     = "read"
	RiskWrite    = "write"
	RiskExternal = "external"
)

// RiskFromAnnotations is what a tool's annotations say it can do, read the
// way the protocol defines their defaults: a tool is read-only only when it
// says so, and reaches the world outside unless it says it does not.
func RiskFromAnnotations(a *mcp.ToolAnnotations) string {
	if a == nil {
		return RiskExternal
	}
	switch {
	case a.ReadOnlyHint:
		return RiskRead
	case a.OpenWorldHint == nil || *a.OpenWorldHint:
		return RiskExternal
	}
	return RiskWrite
}

// Idempotent reports whether calling the tool twice with the same
// arguments does no more than calling it once, as its annotations say.
func Idempotent(a *mcp.ToolAnnotations) bool {
	return a != nil && (a.ReadOnlyHint || a.IdempotentHint)
}
