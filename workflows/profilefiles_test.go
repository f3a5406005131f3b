package workflows

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/policy"
)

func TestTheBuiltInProfilesAreYAMLFiles(t *testing.T) {
	names := []string{}
	for _, p := range Profiles {
		names = append(names, p.Name)
		assert.Equal(t, "built-in "+p.Name+".yaml", p.Source)
	}
	assert.Equal(t, []string{"customer-service", "marketing-campaign", "operations", "research"}, names)
	cs, err := ProfileNamed("customer-service")
	require.NoError(t, err)
	assert.Equal(t, []string{"issue_refund", "send_message"}, cs.Policy.NeedApproval)
	assert.Equal(t, map[string]int{"issue_refund": 1, "send_message": 1}, cs.Policy.MaxCallsPerTool)
	assert.Equal(t, "escalate", cs.Policy.OnApprovalTimeout)
	goal, err := cs.fillGoal(map[string]string{"complaint": "my parcel is late"})
	require.NoError(t, err)
	assert.Equal(t, "Resolve this complaint: my parcel is late", goal)
	_, err = cs.fillGoal(map[string]string{"order": "O-1"})
	assert.ErrorContains(t, err, `profile customer-service's goal "Resolve this complaint: {{.complaint}}" needs vars the run does not give`)
}

func TestAProfileDirectoryAddsAndReplacesProfiles(t *testing.T) {
	dir := t.TempDir()
	rules := policy.Policy{MCP: policy.MCP{Servers: []policy.MCPServer{{Name: "files", Command: "mcp-server-filesystem"}}}}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "clerk.yaml"), []byte(`name: clerk
description: files the day's notes
instructions: Read the notes and file them.
tools: [files.read_*, files.write_file, today]
needApproval: [files.write_file]
budgets: {maxSteps: 4, deadline: 5m}
`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "research.yaml"), []byte("name: research\ninstructions: Answer briefly.\ntools: [search_docs]\n"), 0o600))
	profiles, err := LoadProfiles(dir, rules)
	require.NoError(t, err)
	clerk, err := profileIn(profiles, "clerk")
	require.NoError(t, err)
	assert.Equal(t, []string{"files.read_*", "files.write_file", "today"}, clerk.Policy.Tools)
	research, err := profileIn(profiles, "research")
	require.NoError(t, err)
	assert.Equal(t, []string{"search_docs"}, research.Policy.Tools, "a file replaces the built-in profile of its name")
}

func TestProfileMistakesNameTheFileLineAndField(t *testing.T) {
	rules := policy.Policy{}
	for body, want := range map[string]string{
		"name: clerk\ninstructions: x\ntools: [search_docs, files.read_file]\n":                                `agent profile clerk.yaml, line 3, field tools[1]: "files.read_file" names MCP server "files", which mcp.servers does not declare`,
		"name: clerk\ninstructions: x\ntools: [search_docs]\nbudgets:\n  deadline: soon\n":                     `agent profile clerk.yaml, line 5, field budgets.deadline: "soon" is not a duration; write it like 90d or 36h`,
		"name: clerk\ninstructions: x\ntools: [search_docs]\napprovals:\n  onTimeout: shrug\n":                 `agent profile clerk.yaml, line 4, field approvals: onApprovalTimeout "shrug" is not one of deny, escalate, wait`,
		"name: clerk\ninstructions: x\ntool: [search_docs]\n":                                                  `agent profile clerk.yaml, line 3, field tool: there is no field "tool" here; the fields are name, description, instructions, goal, tools, needApproval, budgets, approvals, model`,
		"name: Clerk Bot\ninstructions: x\ntools: [search_docs]\n":                                             `agent profile clerk.yaml, line 1, field name: "Clerk Bot" is not a usable profile name; use lower-case letters, digits and -, like claims-triage`,
		"name: clerk\ninstructions: x\ntools: [search_docs]\nbudgets:\n  maxCallsPerTool: {send_message: 1}\n": `agent profile clerk.yaml, line 5, field budgets.maxCallsPerTool.send_message: maxCallsPerTool gives send_message 1 calls; name a tool of the profile and at least 1 call`,
		"name: clerk\ninstructions: x\ntools: [search_docs]\ngoal: '{{.q'\n":                                   `agent profile clerk.yaml, line 4, field goal: the goal is not a template: template: goal:1: unclosed action`,
	} {
		_, err := ParseProfile("clerk.yaml", []byte(body), rules)
		require.Error(t, err, body)
		assert.Equal(t, want, err.Error())
	}
}
