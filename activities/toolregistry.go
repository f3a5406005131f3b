package activities

import (
	"context"
	"encoding/json"
)

// ToolRisk says what a tool can do to the world.
type ToolRisk string

// Tool risks.
const (
	RiskRead     ToolRisk = "read"     // looks things up
	RiskWrite    ToolRisk = "write"    // changes business records
	RiskExternal ToolRisk = "external" // reaches people outside
)

// ActivityTool is an agent tool that runs as an activity, as one value:
// what the model is told (name, description, argument schema), what it can
// do to the world, what it does, and what a person approving it sees. The
// agent's catalogue, its decision schema, dispatch and approvals all read
// from it.
type ActivityTool struct {
	Name        string
	Description string
	Args        json.RawMessage // JSON schema of the arguments
	Risk        ToolRisk
	// Writes marks a tool with side effects: it runs as an activity, once
	// per step, and a sandboxed run records it instead. Others run as local
	// activities.
	Writes  bool
	do      func(ctx context.Context, t *Tools, call ToolCall) (ToolResult, error)
	details func(ctx context.Context, t *Tools, call ToolCall) (string, error)
}

// newTool builds a tool whose behaviour takes its decoded arguments.
func newTool[A any](name, description string, args json.RawMessage, risk ToolRisk,
	do func(t *Tools, ctx context.Context, call ToolCall, a A) (ToolResult, error)) ActivityTool {
	return ActivityTool{Name: name, Description: description, Args: args, Risk: risk, Writes: risk != RiskRead,
		do: func(ctx context.Context, t *Tools, call ToolCall) (ToolResult, error) {
			a, err := decoded[A](call)
			if err != nil {
				return ToolResult{}, err
			}
			return do(t, ctx, call, a)
		}}
}

// withDetails adds what a person approving the tool sees.
func withDetails[A any](tool ActivityTool, details func(t *Tools, ctx context.Context, call ToolCall, a A) (string, error)) ActivityTool {
	tool.details = func(ctx context.Context, t *Tools, call ToolCall) (string, error) {
		a, err := decoded[A](call)
		if err != nil {
			return "", err
		}
		return details(t, ctx, call, a)
	}
	return tool
}

func decoded[A any](call ToolCall) (A, error) {
	var a A
	if err := json.Unmarshal(call.Args, &a); err != nil {
		return a, nonRetryable(ErrToolInput, "the arguments of %s are not valid: %v", call.Name, err)
	}
	return a, nil
}

// ActivityToolNamed finds a tool of the registry.
func ActivityToolNamed(name string) (ActivityTool, bool) {
	for _, t := range ActivityTools {
		if t.Name == name {
			return t, true
		}
	}
	return ActivityTool{}, false
}
