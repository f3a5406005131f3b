package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/testenv"
)

// longRunProfile is the agent profile of the long scripted runs and
// benchmarks, in testdata/profiles, which every e2e worker loads.
const longRunProfile = "e2e-long-run"

// TestTheStarterTakesAnyProfileTheWorkersLoaded: the starter process has no
// profile folder of its own; it asks the workers, lists what they loaded,
// and runs an agent of a profile only the workers know.
func TestTheStarterTakesAnyProfileTheWorkersLoaded(t *testing.T) {
	t.Parallel()
	td, _ := scriptedTandem(t, "profiles", calculatingAgent(1))
	code, out, stderr := td.starter(t, "profiles")
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"customer-service", "operations", "research", longRunProfile,
		"from: " + filepath.Join(testenv.RepoRoot(), "e2e", "testdata", "profiles", "e2e-long-run.yaml"), "from: built-in research.yaml"} {
		assert.Contains(t, out, want)
	}
	code, out, stderr = td.starter(t, "agent", "--profile", longRunProfile, "compute 1+1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "finished")

	code, _, stderr = td.starter(t, "agent", "--profile", "astrologer", "read the stars")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, stderr, `agent profile "astrologer" is not one of customer-service, marketing-campaign, operations, research, e2e-long-run`)
}

// agentProfile writes one agent profile into a new folder, for a worker's
// TANDEM_PROFILES_DIR, and returns the folder.
func agentProfile(t testing.TB, yaml string) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "profile.yaml"), []byte(yaml), 0o600))
	return dir
}
