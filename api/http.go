package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/runs"
)

// MaxRequestBytes bounds a request body, well under Temporal's payload limit.
const MaxRequestBytes = MaxInputBytes

// Server is the HTTP trigger API: JSON in and out, bearer-token auth.
type Server struct {
	Client    *Client
	Namespace string
	Token     string
	UIURL     string // Web UI base for links; optional
	Log       *zap.Logger
	// Ready are the checks /readyz runs; Temporal's alone when nil.
	Ready health.Checks
	// Metrics serves /metrics; none when nil.
	Metrics http.Handler
}

// Handler returns the API's routes (see openapi.yaml).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/runs", s.startRun)
	mux.HandleFunc("GET /v1/runs/{id}", s.getRun)
	mux.HandleFunc("POST /v1/runs/{id}/decision", s.decide)
	mux.HandleFunc("POST /v1/runs/{id}/messages", s.message)
	mux.HandleFunc("GET /v1/decisions", s.pending)
	ready := s.Ready
	if ready == nil {
		ready = health.Checks{"temporal": health.Temporal(s.Client.Temporal)}
	}
	health.Register(mux, ready)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	// Each request is a span, the root of the trace of the run it starts,
	// when tracing is on.
	return otelhttp.NewHandler(s.authenticate(mux), "tandem-trigger",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }))
}

// route is a request path as its route: a run's id as {id}.
func route(path string) string {
	rest, ok := strings.CutPrefix(path, "/v1/runs/")
	if !ok || rest == "" {
		return path
	}
	if _, sub, found := strings.Cut(rest, "/"); found {
		return "/v1/runs/{id}/" + sub
	}
	return "/v1/runs/{id}"
}

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token; send Authorization: Bearer <TANDEM_TRIGGER_TOKEN>")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
		next.ServeHTTP(w, r)
	})
}

// StartRequest starts a run. The idempotency key (or the Idempotency-Key
// header) names the run: a retried request returns the same run.
type StartRequest struct {
	Kind           string          `json:"kind"`
	IdempotencyKey string          `json:"idempotencyKey"`
	Input          json.RawMessage `json:"input"`
	Sandbox        bool            `json:"sandbox"` // record side effects instead of performing them
}

// RunView is a run as the API shows it.
type RunView struct {
	WorkflowID string                `json:"workflowId"`
	RunID      string                `json:"runId,omitempty"`
	Kind       string                `json:"kind,omitempty"`
	Status     string                `json:"status"` // Running, Completed, Failed, …
	Step       string                `json:"step,omitempty"`
	Pending    *runs.PendingDecision `json:"pending,omitempty"`
	Result     json.RawMessage       `json:"result,omitempty"`
	Error      string                `json:"error,omitempty"`
	URL        string                `json:"url,omitempty"`
	Existing   bool                  `json:"existing,omitempty"` // the key named a run started before
}

func (s *Server) startRun(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.IdempotencyKey == "" {
		req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	}
	kind, err := KindNamed(req.Kind)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := CheckKey(req.IdempotencyKey); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req.Input) == 0 {
		writeError(w, http.StatusBadRequest, "the request has no input; send the "+kind.Name+" input as input")
		return
	}
	input, err := kind.DecodeInput(req.Input)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := WorkflowID(kind.Name, req.IdempotencyKey)
	run, existing, err := s.Client.Start(sandbox.With(r.Context(), req.Sandbox), kind, id, input)
	var (
		tooLarge *TooLargeError
		invalid  *InvalidInputError
		conflict *ConflictError
	)
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.As(err, &conflict):
		writeError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		s.serverError(w, err)
		return
	}
	status := http.StatusCreated
	if existing {
		status = http.StatusOK
	}
	writeJSON(w, status, RunView{WorkflowID: id, RunID: run.GetRunID(), Kind: kind.Name, Status: "Running",
		URL: s.link(id, run.GetRunID()), Existing: existing})
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	desc, err := s.Client.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("there is no run %s", id))
		return
	} else if err != nil {
		s.serverError(w, err)
		return
	}
	info := desc.GetWorkflowExecutionInfo()
	view := RunView{WorkflowID: id, RunID: info.GetExecution().GetRunId(), Status: info.GetStatus().String(),
		URL: s.link(id, info.GetExecution().GetRunId())}
	if st, err := s.Client.Status(ctx, id); err == nil {
		view.Kind, view.Step, view.Pending = st.Kind, st.Step, st.Pending
	}
	if view.Status != "Running" {
		var raw json.RawMessage
		if err := s.Client.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &raw); err != nil {
			view.Error = sentence(err)
		} else {
			view.Result = raw
		}
	}
	writeJSON(w, http.StatusOK, view)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	var d runs.Decision
	if !decodeBody(w, r, &d) {
		return
	}
	s.afterUpdate(w, r, s.Client.Decide(r.Context(), r.PathValue("id"), d))
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	var m runs.AgentMessage
	if !decodeBody(w, r, &m) {
		return
	}
	s.afterUpdate(w, r, s.Client.Message(r.Context(), r.PathValue("id"), m))
}

func (s *Server) afterUpdate(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), ErrNotFound.Error()+": "))
	case errors.Is(err, ErrRefused):
		writeError(w, http.StatusConflict, strings.TrimPrefix(err.Error(), ErrRefused.Error()+": "))
	case err != nil:
		s.serverError(w, err)
	default:
		s.getRun(w, r)
	}
}

func (s *Server) pending(w http.ResponseWriter, r *http.Request) {
	list, err := s.Client.PendingDecisions(r.Context(), s.Namespace)
	if err != nil {
		s.serverError(w, err)
		return
	}
	if list == nil {
		list = []Pending{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"pending": list})
}

func (s *Server) link(id, runID string) string {
	if s.UIURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.UIURL, s.Namespace, id, runID)
}

func (s *Server) serverError(w http.ResponseWriter, err error) {
	if s.Log != nil {
		s.Log.Error("Trigger request failed", zap.Error(err))
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection refused") {
		writeError(w, http.StatusServiceUnavailable, "the Temporal server is not answering; try again shortly")
		return
	}
	writeError(w, http.StatusInternalServerError, "the request failed: "+sentence(err))
}

// decodeBody decodes a JSON body, answering 413 or 400 with a sentence when
// it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, more := dec.Token(); !errors.Is(more, io.EOF) {
			err = errTrailingData
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is over %d KB; store large documents and send their id", MaxRequestBytes>>10))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "the request has no JSON body")
	case errors.Is(err, errTrailingData):
		writeError(w, http.StatusBadRequest, "the request has data after its JSON body; send exactly one JSON object")
	case err != nil:
		writeError(w, http.StatusBadRequest, "the request is not valid JSON for this endpoint: "+err.Error())
	default:
		return true
	}
	return false
}

var errTrailingData = errors.New("data after the JSON body")

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func sentence(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
