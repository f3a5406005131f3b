package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tandemhq/tandem/internal/testenv"
)

// TestTheCodecEndpointDecryptsOnlyWithItsToken runs the real worker binary
// with a codec endpoint: without a token it refuses to start, in one
// sentence; off loopback it refuses too; with one, a request without the
// token is refused and one with it (as the Web UI sends it, in the path) is
// served.
func TestTheCodecEndpointDecryptsOnlyWithItsToken(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	env := append(os.Environ(), "TEMPORAL_ADDRESS="+s.TemporalAddress, "TANDEM_DB="+filepath.Join(t.TempDir(), "t.db"),
		"TANDEM_TASK_QUEUE=e2e-codec", "TANDEM_MODEL_TASK_QUEUE=e2e-codec-model", "OLLAMA_HOST="+s.OllamaHost,
		"TANDEM_CODEC_KEYS=k1="+key, "TANDEM_CODEC_KEY_FILE=", "TANDEM_CODEC_TOKEN_FILE=", "TANDEM_POLICY_FILE=")
	exits := func(extra ...string) (int, string) { return workerExits(t, append(env, extra...)) }
	code, stderr := exits("TANDEM_CODEC_ADDR="+addr, "TANDEM_CODEC_TOKEN=")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "worker: the codec endpoint decrypts payloads, so it needs a token; set TANDEM_CODEC_TOKEN or TANDEM_CODEC_TOKEN_FILE")
	missing := filepath.Join(t.TempDir(), "codec.token")
	code, stderr = exits("TANDEM_CODEC_ADDR="+addr, "TANDEM_CODEC_TOKEN=", "TANDEM_CODEC_TOKEN_FILE="+missing)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "worker: TANDEM_CODEC_TOKEN_FILE "+missing+" cannot be read or is empty")
	code, stderr = exits("TANDEM_CODEC_ADDR=0.0.0.0:0", "TANDEM_CODEC_TOKEN=s3cret-codec-token")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "is not a loopback address; the codec endpoint serves on loopback unless TANDEM_CODEC_REMOTE=true")

	token := "s3cret-codec-token"
	cmd := exec.Command(buildWorker(t))
	cmd.Env = append(env, "TANDEM_CODEC_ADDR="+addr, "TANDEM_CODEC_TOKEN="+token)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	post := func(path string) int {
		resp, err := http.Post(fmt.Sprintf("http://%s%s", addr, path), "application/json", strings.NewReader(`{"payloads":[]}`))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Eventually(t, func() bool { return post("/decode") != 0 }, 30*time.Second, 100*time.Millisecond, "the endpoint comes up")
	assert.Equal(t, http.StatusUnauthorized, post("/decode"), "no token, nothing decrypted")
	assert.Equal(t, http.StatusOK, post("/"+token+"/decode"), "the Web UI's endpoint URL carries the token")
}
