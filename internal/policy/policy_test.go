package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tools = []string{"search_docs", "send_message", "issue_refund"}

func TestTheDefaultPolicyLoads(t *testing.T) {
	snap, err := Load("", tools)
	require.NoError(t, err)
	assert.Equal(t, "built-in default", snap.Source)
	assert.Equal(t, []string{"email", "phone", "iban", "card", "national_id", "customer_name"}, snap.Policy.Redaction.Detectors)
	assert.True(t, snap.Policy.Redaction.RestoreOutputs)
	assert.Equal(t, Duration(90*24*time.Hour), snap.Policy.Retention.ModelOutputs)
	assert.False(t, snap.Policy.Sandbox.Default)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, snap.Hash)
}

func TestTheHashFollowsTheRulesNotTheLayout(t *testing.T) {
	a, err := Parse("a", []byte("version: 1\nsandbox: {default: true}\n"), tools)
	require.NoError(t, err)
	b, err := Parse("b", []byte("# a comment\nversion: 1\n\nsandbox:\n  default: true\n"), tools)
	require.NoError(t, err)
	c, err := Parse("c", []byte("version: 1\nsandbox: {default: false}\n"), tools)
	require.NoError(t, err)
	assert.Equal(t, a.Hash(), b.Hash())
	assert.NotEqual(t, a.Hash(), c.Hash())
}

func TestMistakesAreNamedByLineAndField(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"unknown field": {"version: 1\nredaction:\n  detectors: [email]\n  restore: true\n",
			`data policy p.yaml, line 4, field redaction.restore: there is no field "restore" here; the fields are detectors, custom, restoreOutputs`},
		"unknown section": {"version: 1\nsandbx:\n  default: true\n",
			`data policy p.yaml, line 2, field sandbx: there is no field "sandbx" here; the fields are version, inference, redaction, agent, models, retention, sandbox, telemetry, mcp`},
		"wrong type": {"version: 1\nagent:\n  maxSteps: many\n",
			`data policy p.yaml, line 3, field agent.maxSteps: "many" is not a whole number`},
		"list for a section": {"version: 1\nsandbox: [true]\n",
			`data policy p.yaml, line 2, field sandbox: this is a list, where a section of fields belongs`},
		"not a boolean": {"version: 1\nsandbox:\n  default: sometimes\n",
			`data policy p.yaml, line 3, field sandbox.default: "sometimes" is not true or false`},
		"section for a value": {"version: 1\nagent:\n  maxSteps: {a: 1}\n",
			`data policy p.yaml, line 3, field agent.maxSteps: this is a section, where a single value belongs`},
		"unknown detector": {"version: 1\nredaction:\n  detectors:\n    - email\n    - passport\n",
			`data policy p.yaml, line 5, field redaction.detectors[1]: there is no detector "passport"; the built-in detectors are email, iban, card, national_id, phone, customer_name`},
		"bad pattern": {"version: 1\nredaction:\n  custom:\n    - name: employee_id\n      pattern: 'EMP-('\n",
			`data policy p.yaml, line 5, field redaction.custom[0].pattern: "EMP-(" is not a regular expression (error parsing regexp: missing closing ): ` + "`EMP-(`" + `)`},
		"pattern matching nothing": {"version: 1\nredaction:\n  custom:\n    - name: anything\n      pattern: 'x*'\n",
			`data policy p.yaml, line 5, field redaction.custom[0].pattern: "x*" matches empty text, so it would redact nothing useful; make it match at least one character`},
		"unknown tool": {"version: 1\nagent:\n  deny: [search_docs, wire_money]\n",
			`data policy p.yaml, line 3, field agent.deny[1]: there is no tool "wire_money"; the tools are search_docs, send_message, issue_refund, and MCP tools are named server.tool`},
		"bad duration": {"version: 1\nretention:\n  modelOutputs: forever\n",
			`data policy p.yaml, line 3, field retention.modelOutputs: "forever" is not a duration; write it like 90d or 36h`},
		"url endpoint": {"version: 1\ninference:\n  endpoints:\n    - http://gpu.example:11434\n",
			`data policy p.yaml, line 4, field inference.endpoints[0]: "http://gpu.example:11434" is not a host or host:port; list servers like gpu-box.internal or 10.1.2.3:11434`},
		"wrong version": {"version: 2\n",
			`data policy p.yaml, line 1, field version: version 2 is not one this Tandem reads; write version: 1`},
		"syntax": {"version: 1\nagent:\n  deny: a: b\n",
			`data policy p.yaml, line 3: not valid YAML: mapping values are not allowed in this context`},
		"mcp server with neither command nor url": {"version: 1\nmcp:\n  servers:\n    - name: files\n",
			`data policy p.yaml, line 4, field mcp.servers[0]: server files needs either a command (stdio) or a url (streamable HTTP), not both and not neither`},
		"mcp token on a command": {"version: 1\nmcp:\n  servers:\n    - name: files\n      command: mcp-server-filesystem\n      tokenEnv: T\n",
			`data policy p.yaml, line 4, field mcp.servers[0]: server files runs a command; a bearer token is for servers reached by url`},
		"mcp bad risk": {"version: 1\nmcp:\n  servers:\n    - name: files\n      url: http://localhost:9/mcp\n      risk:\n        - {tool: 'write_*', risk: harmless}\n",
			`data policy p.yaml, line 7, field mcp.servers[0].risk[0].risk: risk "harmless" is not one of read, write, external`},
		"mcp tool of an undeclared server": {"version: 1\nagent:\n  requireApproval: [files.write_file]\n",
			`data policy p.yaml, line 3, field agent.requireApproval[0]: "files.write_file" names MCP server "files", which mcp.servers does not declare`},
		"empty": {"", `data policy p.yaml: the file is empty`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.yaml), tools)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assert.NotContains(t, err.Error(), "\n", "one sentence")
		})
	}
}

func TestLoadReadsAFileAndSaysWhenItCannot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte("version: 1\nagent:\n  deny: [issue_refund]\n  requireApproval: [send_message]\nsandbox:\n  default: true\n"), 0o600))
	snap, err := Load(path, tools)
	require.NoError(t, err)
	assert.Equal(t, path, snap.Source)
	assert.Equal(t, []string{"issue_refund"}, snap.Policy.Agent.Deny)
	assert.True(t, snap.Policy.Sandbox.Default)

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"), tools)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "cannot read the data policy: open "), err.Error())
	assert.True(t, strings.HasSuffix(err.Error(), "set TANDEM_POLICY_FILE to a readable YAML file, or unset it for the default"))
}

func TestMCPServersComeFromThePolicyAndItsToolsFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tools.yaml"), []byte("servers:\n  - name: crm\n    url: https://crm.internal/mcp\n    tokenEnv: CRM_TOKEN\n"), 0o600))
	path := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`version: 1
agent:
  deny: [files.move_*]
  requireApproval: [crm.*]
mcp:
  file: tools.yaml
  servers:
    - name: files
      command: mcp-server-filesystem
      args: [/srv/share]
      timeout: 20s
      risk:
        - {tool: '*', risk: write}
        - {tool: 'read_*', risk: read}
`), 0o600))
	snap, err := Load(path, tools)
	require.NoError(t, err)
	files, ok := snap.Policy.MCPServerNamed("files")
	require.True(t, ok)
	crm, ok := snap.Policy.MCPServerNamed("crm")
	require.True(t, ok, "the tools file's servers join the policy's")
	assert.Equal(t, "CRM_TOKEN", crm.TokenEnv)
	assert.Equal(t, 20*time.Second, files.CallTimeout())
	assert.Equal(t, DefaultMCPAttempts, files.CallAttempts())
	assert.Equal(t, "read", files.RiskOf("read_text_file"), "the last matching rule wins")
	assert.Equal(t, "write", files.RiskOf("write_file"))
	assert.True(t, MatchTool("files.move_*", "files.move_file"))
	assert.False(t, MatchTool("files.move_*", "crm.move_file"))
	assert.False(t, MatchTool("search_*", "search_docs"), "built-in tools are named exactly")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tools.yaml"), []byte("servers:\n  - name: crm\n    urll: https://crm.internal/mcp\n"), 0o600))
	_, err = Load(path, tools)
	require.Error(t, err)
	assert.Equal(t, "data policy "+filepath.Join(dir, "tools.yaml")+`, line 3, field servers[0].urll: there is no field "urll" here; the fields are `+
		"name, command, args, env, url, tokenEnv, tokenFile, timeout, attempts, maxResult, trusted, risk", err.Error())
}

func TestRedactorFollowsThePolicy(t *testing.T) {
	p, err := Parse("p", []byte("version: 1\nredaction:\n  detectors: [email]\n  custom:\n    - name: employee_id\n      pattern: 'EMP-[0-9]{6}'\n"), tools)
	require.NoError(t, err)
	r, err := p.Redactor()
	require.NoError(t, err)
	var kinds []string
	for _, m := range r.Find("EMP-000123 wrote from a@b.example, card 4111 1111 1111 1111") {
		kinds = append(kinds, m.Kind)
	}
	assert.Equal(t, []string{"EMPLOYEE_ID", "EMAIL"}, kinds, "cards are not redacted when the policy leaves the card detector out")
}
