package e2e

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/testenv"
)

// TestDockerComposeConfig checks docker-compose.yml, alone and with the GPU
// overlay, with `docker compose config`, and that it has every service the
// stack needs.
func TestDockerComposeConfig(t *testing.T) {
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		if os.Getenv("TANDEM_REQUIRE_E2E") == "1" {
			t.Fatal("docker compose is not installed; run scripts/dev.sh compose")
		}
		t.Skip("docker compose is not installed; `scripts/dev.sh compose` builds its plugin")
	}
	for _, files := range [][]string{
		{"-f", "docker-compose.yml"},
		{"-f", "docker-compose.yml", "-f", "docker-compose.gpu.yml"},
	} {
		cmd := exec.Command("docker", append(append([]string{"compose"}, files...), "config", "--services")...)
		cmd.Dir = testenv.RepoRoot()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "docker compose config %v: %s", files, out)
		for _, service := range []string{"postgresql", "temporal", "temporal-ui", "ollama", "model", "worker", "trigger"} {
			assert.Contains(t, string(out), service+"\n")
		}
	}
}
