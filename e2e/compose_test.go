package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/testenv"
)

// composeService is the part of a resolved compose service the test reads.
type composeService struct {
	Image       string            `json:"image"`
	Environment map[string]string `json:"environment"`
	Entrypoint  []string          `json:"entrypoint"`
	Volumes     []struct {
		Source string `json:"source"`
		Target string `json:"target"`
	} `json:"volumes"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
}

// TestDockerComposeConfig checks docker-compose.yml, alone and with the GPU
// overlay, with `docker compose config`: Temporal from its maintained
// images with the schema set up by admin-tools and a cluster health gate,
// the business store in its own PostgreSQL database, and workflow and model
// workers that keep no local state.
func TestDockerComposeConfig(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		if os.Getenv("TANDEM_REQUIRE_E2E") == "1" {
			t.Fatal("docker compose is not installed; run scripts/dev.sh compose")
		}
		t.Skip("docker compose is not installed; `scripts/dev.sh compose` builds its plugin")
	}
	for _, files := range [][]string{
		{"-f", "docker-compose.yml"},
		{"-f", "docker-compose.yml", "-f", "docker-compose.gpu.yml"},
		{"-f", "docker-compose.yml", "--profile", "observability"},
	} {
		cmd := exec.Command("docker", append(append([]string{"compose"}, files...), "config", "--format", "json")...)
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(os.Environ(), "TANDEM_DB_PASSWORD=s3cret")
		out, err := cmd.Output()
		require.NoError(t, err, "docker compose config %v", files)
		var project struct {
			Services map[string]composeService `json:"services"`
		}
		require.NoError(t, json.Unmarshal(out, &project))
		s := project.Services
		for _, name := range []string{"temporal-db", "temporal-schema", "temporal", "temporal-ready", "temporal-ui",
			"tandem-db", "ollama", "model", "worker", "model-worker", "trigger"} {
			require.Contains(t, s, name)
		}
		oneShots := map[string]bool{"temporal-schema": true, "temporal-ready": true, "model": true}
		for name, svc := range s {
			if !oneShots[name] {
				assert.NotNil(t, svc.Healthcheck, "%s has a health check", name)
			}
			assert.NotContains(t, svc.Image, "auto-setup", "%s: the deprecated auto-setup image", name)
			assert.NotContains(t, strings.Join(svc.Entrypoint, " "), "tctl", "%s: the deprecated tctl", name)
		}
		assert.True(t, strings.HasPrefix(s["temporal"].Image, "temporalio/server:"))
		assert.True(t, strings.HasPrefix(s["temporal-schema"].Image, "temporalio/admin-tools:"))
		assert.Equal(t, "service_completed_successfully", s["temporal"].DependsOn["temporal-schema"].Condition)
		script, err := os.ReadFile(testenv.RepoRoot() + "/deploy/temporal/create-namespace.sh")
		require.NoError(t, err)
		assert.Contains(t, string(script), "temporal operator cluster health")

		for _, name := range []string{"worker", "model-worker"} {
			assert.Equal(t, []string{"CMD", "/usr/local/bin/worker", "healthcheck"}, s[name].Healthcheck.Test, name)
		}
		if files[len(files)-1] == "observability" {
			for _, name := range []string{"prometheus", "grafana", "jaeger"} {
				require.Contains(t, s, name)
			}
			mounted := false
			for _, v := range s["grafana"].Volumes {
				mounted = mounted || strings.HasSuffix(v.Source, "deploy/grafana/tandem.json")
			}
			assert.True(t, mounted, "Grafana gets the Tandem dashboard")
		}
		assert.Equal(t, "workflows", s["worker"].Environment["TANDEM_WORKER_ROLE"])
		assert.Equal(t, "model", s["model-worker"].Environment["TANDEM_WORKER_ROLE"])
		for _, name := range []string{"worker", "model-worker", "trigger"} {
			assert.Equal(t, "service_completed_successfully", s[name].DependsOn["temporal-ready"].Condition, name)
		}
		for _, name := range []string{"worker", "model-worker"} {
			svc := s[name]
			assert.Equal(t, "postgres://tandem:s3cret@tandem-db:5432/tandem?sslmode=disable", svc.Environment["TANDEM_DB"],
				"%s: the shared business store, not a file", name)
			for _, v := range svc.Volumes {
				assert.NotEqual(t, "/data", v.Target, "%s keeps no store file", name)
			}
		}
	}
}
