package temporalclient

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/internal/config"
)

// TestAProfileReachesTemporalCloud: a temporal.toml profile with an API key
// sets the address, the namespace, the credentials and TLS, as Temporal
// Cloud needs; a flag's address still wins, and without a profile Tandem's
// defaults apply.
func TestAProfileReachesTemporalCloud(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(file, []byte(`
[profile.cloud]
address = "acme.a1b2c.tmprl.cloud:7233"
namespace = "acme.a1b2c"
api_key = "secret-key"
`), 0o600))
	t.Setenv("TEMPORAL_CONFIG_FILE", file)
	t.Setenv("TEMPORAL_PROFILE", "cloud")
	unsetenv(t, "TEMPORAL_ADDRESS")
	unsetenv(t, "TEMPORAL_NAMESPACE")

	opts, err := Options(config.FromEnv())
	require.NoError(t, err)
	assert.Equal(t, "acme.a1b2c.tmprl.cloud:7233", opts.HostPort)
	assert.Equal(t, "acme.a1b2c", opts.Namespace)
	assert.NotNil(t, opts.Credentials, "the API key")
	assert.NotNil(t, opts.ConnectionOptions.TLS, "an API key implies TLS")
	assert.Nil(t, opts.ConnectionOptions.GrpcCompression, "a remote server gets the SDK's gzip")

	cfg := config.FromEnv()
	cfg.TemporalAddress = "10.0.0.5:7233" // --address
	opts, err = Options(cfg)
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.5:7233", opts.HostPort)

	unsetenv(t, "TEMPORAL_PROFILE")
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
	opts, err = Options(config.FromEnv())
	require.NoError(t, err)
	assert.Equal(t, config.DefaultTemporalAddress, opts.HostPort)
	assert.Equal(t, config.DefaultNamespace, opts.Namespace)
	assert.Nil(t, opts.Credentials)
	assert.Equal(t, &client.GrpcCompressionNone{}, opts.ConnectionOptions.GrpcCompression, "nothing is compressed on the way to this machine")
}

func TestOnlyAServerOnThisMachineIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:7233": true, "localhost:7233": true, "[::1]:7233": true,
		"10.0.0.5:7233": false, "acme.tmprl.cloud:7233": false, "no-port": false} {
		assert.Equal(t, want, onLoopback(addr), addr)
	}
}

func TestAnUnknownProfileIsOneSentence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(file, []byte("[profile.dev]\naddress = \"127.0.0.1:7233\"\n"), 0o600))
	t.Setenv("TEMPORAL_CONFIG_FILE", file)
	t.Setenv("TEMPORAL_PROFILE", "prod")
	_, err := Options(config.FromEnv())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the Temporal connection settings cannot be read (")
	assert.Contains(t, err.Error(), "check temporal.toml, TEMPORAL_PROFILE and the TEMPORAL_* variables")
}

// unsetenv removes an environment variable for the test.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	old, had := os.LookupEnv(key)
	require.NoError(t, os.Unsetenv(key))
	t.Cleanup(func() {
		if had {
			_ = os.Setenv(key, old)
		}
	})
}
