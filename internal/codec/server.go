package codec

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// Server is the codec endpoint the Temporal Web UI calls to show decoded
// payloads: POST /encode and /decode, with CORS for the UI's origin. It
// decrypts for no one without the token: as a bearer token (the UI's
// "pass access token" setting, or any HTTP client), or as the first path
// segment of the endpoint URL (http://host:port/TOKEN), which is how a
// Web UI without sign-in is wired to it. A server without a token refuses
// every request.
type Server struct {
	Keys     *Keys
	UIOrigin string // the Web UI's origin, like http://localhost:8233
	Token    string
}

// Handler returns the codec endpoint.
func (s *Server) Handler() http.Handler {
	codec := converter.NewPayloadCodecHTTPHandler(s.Keys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && origin == s.UIOrigin {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		path, ok := s.authorized(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tandem-codec"`)
			http.Error(w, "missing or wrong codec token; send Authorization: Bearer <TANDEM_CODEC_TOKEN>, or use the endpoint URL with the token as its path", http.StatusUnauthorized)
			return
		}
		r.URL.Path = path
		codec.ServeHTTP(w, r)
	})
}

// authorized checks the request's token and returns the path left once a
// token in the path is taken off.
func (s *Server) authorized(r *http.Request) (string, bool) {
	if s.Token == "" {
		return "", false
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.matches(bearer) {
		return r.URL.Path, true
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if s.matches(first) {
		return "/" + rest, true
	}
	return "", false
}

func (s *Server) matches(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) == 1
}
