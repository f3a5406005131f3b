package workflows

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
)

// TestMCPToolsFollowTheDataPolicy: a profile allows files.*; the run lists
// the server's tools at its start, the data policy's deny glob takes one
// away, a write asks a person, and the call goes to CallMCPTool with its
// server, tool and risk. A run may narrow the profile's MCP tools and
// never widen them.
func TestMCPToolsFollowTheDataPolicy(t *testing.T) {
	rules := policy.Policy{Version: 1, MCP: policy.MCP{Servers: []policy.MCPServer{{Name: "files", Command: "mcp-server-filesystem"}}},
		Agent: policy.AgentRules{Deny: []string{"files.move_*"}}}
	clerk := AgentProfile{Name: "clerk", Instructions: "File things.", Policy: AgentPolicy{Tools: []string{"today", "files.*"},
		Approvers: []string{"office.manager"}}}
	env, agent, tools := agentTestEnv(testSettings(&rules), clerk)
	var (
		asked   [][]string
		calls   []activities.MCPCall
		listed  []string
		decided = []activities.DecideResult{
			step("files.move_file", `{"source":"/a","destination":"/b"}`),
			step("files.write_file", `{"path":"/a","content":"x"}`),
			step("finish", `{"answer":"filed","sources":[]}`),
		}
	)
	env.OnActivity(tools.ApprovalDetails, mock.Anything, mock.Anything).Return("", nil)
	env.OnActivity(tools.ListMCPTools, mock.Anything, mock.Anything).Return(func(_ context.Context, patterns []string) (activities.MCPCatalogue, error) {
		listed = patterns
		args := json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path"],"additionalProperties":false}`)
		return activities.MCPCatalogue{Tools: []activities.MCPTool{
			{Name: "files.read_text_file", Server: "files", Tool: "read_text_file", Args: args, Risk: activities.RiskRead, Idempotent: true},
			{Name: "files.write_file", Server: "files", Tool: "write_file", Args: args, Risk: activities.RiskWrite, Idempotent: true, NeedsApproval: true},
			{Name: "files.move_file", Server: "files", Tool: "move_file", Args: json.RawMessage(`{"type":"object"}`), Risk: activities.RiskWrite, NeedsApproval: true},
		}}, nil
	})
	env.OnActivity(agent.Decide, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.DecideRequest) (activities.DecideResult, error) {
		asked = append(asked, req.Allowed)
		next := decided[0]
		decided = decided[1:]
		return next, nil
	})
	env.OnActivity(tools.CallMCPTool, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.MCPCall) (activities.ToolResult, error) {
		calls = append(calls, c)
		return activities.ToolResult{Observation: "wrote /a"}, nil
	})
	decideAfter(env, time.Minute, Decision{Approve: true, By: "office.manager"})
	env.ExecuteWorkflow(Agent, AgentInput{Goal: "file it", Profile: "clerk", Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	require.NoError(t, env.GetWorkflowError())
	var res AgentResult
	require.NoError(t, env.GetWorkflowResult(&res))

	assert.Equal(t, []string{"files.*"}, listed)
	assert.Equal(t, []string{"today", "files.read_text_file", "files.write_file"}, asked[0], "the deny glob takes files.move_file away")
	require.Len(t, res.Trail, 2)
	assert.Equal(t, "denied", res.Trail[0].Outcome)
	assert.Equal(t, TrailEntry{Step: 2, Tool: "files.write_file", Args: json.RawMessage(`{"path":"/a","content":"x"}`), Outcome: "ok", By: "office.manager"}, res.Trail[1],
		"a write of an untrusted server waits for a person")
	require.Len(t, calls, 1)
	assert.Equal(t, "files", calls[0].Server)
	assert.Equal(t, "write_file", calls[0].Tool)
	assert.Equal(t, activities.RiskWrite, calls[0].Risk)
	assert.Equal(t, "office.manager", calls[0].ApprovedBy)
}

func TestARunMayNarrowItsMCPToolsAndNeverWidenThem(t *testing.T) {
	profile := AgentPolicy{Tools: []string{"today", "files.read_*"}}.withDefaults()
	narrowed, err := profile.narrowedBy(AgentPolicy{Tools: []string{"files.read_text_file"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"files.read_text_file"}, narrowed.Tools)
	_, err = profile.narrowedBy(AgentPolicy{Tools: []string{"files.read_*"}})
	require.NoError(t, err, "the same glob")
	_, err = profile.narrowedBy(AgentPolicy{Tools: []string{"files.*"}})
	assert.EqualError(t, err, "the run asks for tool files.*, which the profile does not allow; a run may narrow its agent's tools, never add to them")
	_, err = profile.narrowedBy(AgentPolicy{Tools: []string{"files.write_file"}})
	assert.EqualError(t, err, "the run asks for tool files.write_file, which the profile does not allow; a run may narrow its agent's tools, never add to them")
}
