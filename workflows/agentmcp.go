package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
)

// RunMCP marks a tool of an MCP server: an activity that calls it once per
// step, with the timeout, heartbeats and attempts its server's policy sets.
const RunMCP ToolRun = "mcp"

// isMCPTool reports whether a tool name or pattern names an MCP server's
// tool (server.tool, or a glob such as files.read_*).
func isMCPTool(name string) bool {
	_, _, ok := policy.SplitMCPTool(name)
	return ok
}

// usesMCP reports whether a policy allows any MCP tool.
func (p AgentPolicy) usesMCP() bool { return slices.ContainsFunc(p.Tools, isMCPTool) }

// needsApproval reports whether a person must allow each call of tool.
func (p AgentPolicy) needsApproval(tool string) bool {
	return slices.ContainsFunc(p.NeedApproval, func(pattern string) bool { return policy.MatchTool(pattern, tool) })
}

// allows reports whether a tool name or pattern a run asks for lies within
// the policy's tools.
func (p AgentPolicy) allows(tool string) bool {
	return slices.ContainsFunc(p.Tools, func(pattern string) bool {
		return policy.MatchTool(pattern, tool) || isMCPTool(tool) && coveredGlob(pattern, tool)
	})
}

// coveredGlob reports whether a narrower glob, such as files.read_*, lies
// within a wider one, such as files.*: the narrow one with its wildcards
// taken as text matches the wide one.
func coveredGlob(wide, narrow string) bool {
	return strings.ContainsAny(narrow, "*?[") && policy.MatchTool(wide, narrow)
}

// errToolsUnavailable ends a run whose MCP tools could not be listed.
type errToolsUnavailable struct{ reason string }

func (e errToolsUnavailable) Error() string { return e.reason }

// listMCPTools fetches, at the run's start, the MCP tools its policy
// allows, and records them in history through the activity's result: a
// server that changes its tools later does not change this run. The
// policy's tool patterns become the concrete tools, less those the data
// policy denies; tools that change things need approval unless their
// server is trusted.
func listMCPTools(ctx workflow.Context, st *AgentState, rules dataAgentRules) error {
	patterns := slices.DeleteFunc(slices.Clone(st.Policy.Tools), func(t string) bool { return !isMCPTool(t) })
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             "list the MCP tools of " + strings.Join(patterns, ", "),
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2, NonRetryableErrorTypes: []string{activities.ErrToolInput}},
	})
	var tools *activities.Tools
	var cat activities.MCPCatalogue
	if err := workflow.ExecuteActivity(actx, tools.ListMCPTools, patterns).Get(ctx, &cat); err != nil {
		return errToolsUnavailable{reason: "the agent's MCP tools are unavailable: " + rootMessage(err)}
	}
	concrete := slices.DeleteFunc(slices.Clone(st.Policy.Tools), isMCPTool)
	for _, t := range cat.Tools {
		if slices.ContainsFunc(rules.Deny, func(p string) bool { return policy.MatchTool(p, t.Name) }) {
			continue
		}
		st.MCP = append(st.MCP, t)
		concrete = append(concrete, t.Name)
		if t.NeedsApproval && !st.Policy.needsApproval(t.Name) {
			st.Policy.NeedApproval = append(st.Policy.NeedApproval, t.Name)
		}
	}
	st.Policy.Tools = concrete
	return nil
}

// tool finds a tool of the run's catalogue: the built-in ones, then the
// MCP tools it recorded at its start.
func (st *AgentState) tool(name string) (Tool, bool) {
	if t, ok := toolNamed(name); ok {
		return t, true
	}
	for _, t := range st.MCP {
		if t.Name == name {
			return Tool{Name: t.Name, Description: t.Description, Args: t.Args, Risk: t.Risk, Run: RunMCP}, true
		}
	}
	return Tool{}, false
}

// callMCPTool calls an MCP tool as an activity under its server's policy.
func callMCPTool(ctx workflow.Context, st *AgentState, call activities.ToolCall) (activities.ToolResult, error) {
	var spec activities.MCPTool
	for _, t := range st.MCP {
		if t.Name == call.Name {
			spec = t
		}
	}
	server, _ := runPolicy(ctx).MCPServerNamed(spec.Server)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: server.CallTimeout(),
		HeartbeatTimeout:    15 * time.Second,
		Summary:             fmt.Sprintf("%s %s", call.Name, oneLineArgs(call.Args)),
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: int32(server.CallAttempts()), InitialInterval: time.Second,
			NonRetryableErrorTypes: []string{activities.ErrToolInput, activities.ErrMCPResultTooLarge}},
	})
	var tools *activities.Tools
	var res activities.ToolResult
	err := workflow.ExecuteActivity(actx, tools.CallMCPTool, activities.MCPCall{ToolCall: call, Server: spec.Server, Tool: spec.Tool,
		Risk: spec.Risk, Idempotent: spec.Idempotent}).Get(ctx, &res)
	return res, err
}
