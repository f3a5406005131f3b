package codec

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// Server is the codec endpoint the Temporal Web UI calls to show decoded
// payloads: POST /encode and /decode, with CORS for the UI's origin and a
// bearer token when one is set.
type Server struct {
	Keys     *Keys
	UIOrigin string // the Web UI's origin, like http://localhost:8233
	Token    string // empty: no token (serve on loopback only)
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
		if s.Token != "" {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) != 1 {
				http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
		}
		codec.ServeHTTP(w, r)
	})
}
