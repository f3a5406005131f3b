package codec

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

func key(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune('a'+b)), 32)))
}

func payload(t *testing.T, v any) *commonpb.Payload {
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestRoundTripAndRotation(t *testing.T) {
	old, err := ParseKeys("k1=" + key(1))
	require.NoError(t, err)
	enc, err := old.Encode([]*commonpb.Payload{payload(t, "IBAN DE89 3704 0044 0532 0130 00")})
	require.NoError(t, err)
	assert.NotContains(t, string(enc[0].Data), "DE89")
	assert.Equal(t, "k1", string(enc[0].Metadata[MetadataKeyID]))

	rotated, err := ParseKeys("k2=" + key(2) + "\n# older keys still decrypt\nk1=" + key(1))
	require.NoError(t, err)
	assert.Equal(t, "k2", rotated.Current())
	dec, err := rotated.Decode(enc)
	require.NoError(t, err)
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &s))
	assert.Equal(t, "IBAN DE89 3704 0044 0532 0130 00", s)

	plain := payload(t, "not encrypted")
	dec, err = rotated.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	assert.Same(t, plain, dec[0], "payloads written before encryption pass through")
}

func TestWrongOrMissingKeyIsAClearError(t *testing.T) {
	k1, _ := ParseKeys("k1=" + key(1))
	enc, err := k1.Encode([]*commonpb.Payload{payload(t, "secret")})
	require.NoError(t, err)

	other, _ := ParseKeys("k9=" + key(9))
	_, err = other.Decode(enc)
	assert.EqualError(t, err, `a payload was encrypted with key "k1", which this process does not have; add it to TANDEM_CODEC_KEYS`)

	impostor, _ := ParseKeys("k1=" + key(7))
	_, err = impostor.Decode(enc)
	assert.EqualError(t, err, `a payload did not decrypt with key "k1": the key is not the one it was encrypted with, or the data was changed`)
}

func TestParseKeysRefusesBadKeys(t *testing.T) {
	for text, want := range map[string]string{
		"":                               "no codec keys given",
		"k1":                             "a codec key entry is not id=base64-key",
		"k1=c2hvcnQ=":                    `codec key "k1" is not 32 bytes of base64 (make one with: head -c 32 /dev/urandom | base64)`,
		"k1=" + key(1) + ",k1=" + key(2): `codec key "k1" is listed twice`,
	} {
		_, err := ParseKeys(text)
		assert.EqualError(t, err, want, text)
	}
}

func TestServerCORSAndToken(t *testing.T) {
	k, _ := ParseKeys("k1=" + key(1))
	srv := httptest.NewServer((&Server{Keys: k, UIOrigin: "http://localhost:8233", Token: "t0ken"}).Handler())
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", "http://localhost:8233")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8233", resp.Header.Get("Access-Control-Allow-Origin"))

	req, _ = http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "no CORS for other origins")

	body := `{"payloads":[]}`
	resp, err = http.Post(srv.URL+"/decode", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t0ken")
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The Web UI without sign-in reaches it with the token as the path.
	resp, err = http.Post(srv.URL+"/t0ken/decode", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(srv.URL+"/wrong/decode", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestServerWithoutATokenDecryptsForNoOne: the endpoint fails closed.
func TestServerWithoutATokenDecryptsForNoOne(t *testing.T) {
	k, _ := ParseKeys("k1=" + key(1))
	enc, err := k.Encode([]*commonpb.Payload{payload(t, "Camille Martin's ticket")})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)
	srv := httptest.NewServer((&Server{Keys: k}).Handler())
	defer srv.Close()
	for _, path := range []string{"/decode", "//decode", "/decode/decode"} {
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		assert.NotContains(t, string(out), "Camille", path)
	}
}

func TestLockedRefusesEncryptedPayloads(t *testing.T) {
	k1, _ := ParseKeys("k1=" + key(1))
	enc, err := k1.Encode([]*commonpb.Payload{payload(t, "secret")})
	require.NoError(t, err)
	_, err = Locked{}.Decode(enc)
	assert.EqualError(t, err, `a payload is encrypted with key "k1"; set TANDEM_CODEC_KEYS or TANDEM_CODEC_KEY_FILE to read it`)
	plain := []*commonpb.Payload{payload(t, "open")}
	out, err := Locked{}.Decode(plain)
	require.NoError(t, err)
	assert.Equal(t, plain, out)
}
