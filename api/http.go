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
	"github.com/tandemhq/tandem/workflows"
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
	// MCPCallers maps each bearer token of the MCP endpoint, /mcp, to the
	// person it stands for; no endpoint when empty.
	MCPCallers map[string]string
}

// Handler returns the API's routes (see openapi.yaml).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/runs", s.startRun)
	mux.HandleFunc("GET /v1/runs/{id}", s.getRun)
	mux.HandleFunc("POST /v1/runs/{id}/decision", s.decide)
	mux.HandleFunc("POST /v1/runs/{id}/messages", s.message)
	mux.HandleFunc("POST /v1/runs/{id}/events", s.event)
	mux.HandleFunc("POST /v1/runs/{id}/campaign-results", s.campaignResults)
	mux.HandleFunc("GET /v1/decisions", s.pending)
	ready := s.Ready
	if ready == nil {
		ready = health.Checks{"temporal": health.Temporal(s.Client.Temporal)}
	}
	health.Register(mux, ready)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	if len(s.MCPCallers) > 0 {
		mux.Handle("/mcp", s.MCPHandler())
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
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" || r.URL.Path == "/mcp" {
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
	view, status, err := s.start(r.Context(), req)
	switch {
	case status == http.StatusInternalServerError:
		s.serverError(w, err)
	case err != nil:
		writeError(w, status, err.Error())
	default:
		writeJSON(w, status, view)
	}
}

// start starts the run a request asks for, as the HTTP API and the MCP
// tools do, and returns it with the HTTP status that answers the request.
func (s *Server) start(ctx context.Context, req StartRequest) (RunView, int, error) {
	kind, err := KindNamed(req.Kind)
	if err != nil {
		return RunView{}, http.StatusBadRequest, err
	}
	if err := CheckKey(req.IdempotencyKey); err != nil {
		return RunView{}, http.StatusBadRequest, err
	}
	if len(req.Input) == 0 {
		return RunView{}, http.StatusBadRequest, errors.New("the request has no input; send the " + kind.Name + " input as input")
	}
	input, err := kind.DecodeInput(req.Input)
	if err != nil {
		if err = s.Client.checkWithWorkerProfiles(ctx, kind, req.Input, err); err != nil {
			return RunView{}, http.StatusBadRequest, err
		}
	}
	id := WorkflowID(kind.Name, req.IdempotencyKey)
	run, existing, err := s.Client.Start(sandbox.With(ctx, req.Sandbox), kind, id, input)
	var (
		tooLarge *TooLargeError
		invalid  *InvalidInputError
		conflict *ConflictError
	)
	switch {
	case errors.As(err, &tooLarge):
		return RunView{}, http.StatusRequestEntityTooLarge, err
	case errors.As(err, &invalid):
		return RunView{}, http.StatusBadRequest, err
	case errors.As(err, &conflict):
		return RunView{}, http.StatusConflict, err
	case err != nil:
		return RunView{}, http.StatusInternalServerError, err
	}
	status := http.StatusCreated
	if existing {
		status = http.StatusOK
	}
	return RunView{WorkflowID: id, RunID: run.GetRunID(), Kind: kind.Name, Status: "Running",
		URL: s.link(id, run.GetRunID()), Existing: existing}, status, nil
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	view, err := s.view(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, strings.TrimPrefix(err.Error(), ErrNotFound.Error()+": "))
	case err != nil:
		s.serverError(w, err)
	default:
		writeJSON(w, http.StatusOK, view)
	}
}

// view is a run as the API shows it: its status, step and pending
// decision, and once it ended its result or error.
func (s *Server) view(ctx context.Context, id string) (RunView, error) {
	desc, err := s.Client.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return RunView{}, fmt.Errorf("%w: there is no run %s", ErrNotFound, id)
	} else if err != nil {
		return RunView{}, err
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
	return view, nil
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

func (s *Server) event(w http.ResponseWriter, r *http.Request) {
	var e runs.AgentEvent
	if !decodeBody(w, r, &e) {
		return
	}
	s.afterUpdate(w, r, s.Client.Event(r.Context(), r.PathValue("id"), e))
}

// CampaignResultsRequest delivers a campaign's results: who reports them,
// and the results.
type CampaignResultsRequest struct {
	From string `json:"from" jsonschema:"who reports the results, such as mailer"`
	workflows.CampaignResults
}

func (s *Server) campaignResults(w http.ResponseWriter, r *http.Request) {
	var in CampaignResultsRequest
	if !decodeBody(w, r, &in) {
		return
	}
	s.afterUpdate(w, r, s.Client.CampaignResults(r.Context(), r.PathValue("id"), in.From, in.CampaignResults))
}

// afterUpdate answers an Update through the API: the run as it is now, or
// the sentence of an input refused before it was sent (400), an unknown
// run (404), or a refusal by the run (409).
func (s *Server) afterUpdate(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *InvalidInputError
	switch {
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, invalid.Error())
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
