package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// MCPServerBin is the path of a third-party MCP server (or the MCP
// Inspector) that tools/mcp installs from npm, such as
// mcp-server-filesystem. It skips (or fails, under TANDEM_REQUIRE_E2E=1)
// when `npm ci --prefix tools/mcp` has not run.
func MCPServerBin(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(RepoRoot(), "tools", "mcp", "node_modules", ".bin", name)
	missing := ""
	if _, err := os.Stat(bin); err != nil {
		missing = name + " is not installed; run `npm ci --prefix tools/mcp`"
	}
	need(t, name, missing, nil)
	return bin
}
