// Package api is how other services use Tandem: a typed Go client that
// starts, decides and awaits each workflow and the agent, and the HTTP
// trigger API for callers that are not Go (see openapi.yaml).
package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// Kind is one kind of Tandem run: its workflow, its input, and how to check
// the input before a run starts.
type Kind struct {
	Name     string // as in the TandemKind search attribute and the HTTP API
	Workflow string // workflow type name
	newInput func() any
	check    func(input any) error
}

// Kinds are the runs Tandem can start.
var Kinds = []Kind{
	{Name: "ticket-routing", Workflow: runs.TicketRoutingName,
		newInput: func() any { return &workflows.TicketRoutingInput{} },
		check:    func(in any) error { return in.(*workflows.TicketRoutingInput).Check() }},
	{Name: "invoice", Workflow: runs.InvoiceProcessingName,
		newInput: func() any { return &workflows.InvoiceInput{} },
		check:    func(in any) error { return in.(*workflows.InvoiceInput).Check() }},
	{Name: "leave", Workflow: runs.LeaveApprovalName,
		newInput: func() any { return &workflows.LeaveInput{} },
		// Dates are checked against the run's own clock.
		check: func(in any) error { return in.(*workflows.LeaveInput).Policy.Check() }},
	{Name: "compliance", Workflow: runs.ComplianceMonitoringName,
		newInput: func() any { return &workflows.ComplianceInput{} },
		check:    func(in any) error { return nil }},
	{Name: "agent", Workflow: runs.AgentName,
		newInput: func() any { return &workflows.AgentInput{} },
		check:    func(in any) error { return in.(*workflows.AgentInput).CheckStart() }},
}

// KindNamed finds a kind by name.
func KindNamed(name string) (Kind, error) {
	var names []string
	for _, k := range Kinds {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return Kind{}, fmt.Errorf("kind %q is not one of %s", name, strings.Join(names, ", "))
}

// DecodeInput decodes and checks a kind's input, refusing unknown fields.
func (k Kind) DecodeInput(raw json.RawMessage) (any, error) {
	in := k.newInput()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return nil, fmt.Errorf("the input is not a valid %s input: %v", k.Name, err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err == nil {
		if err := plainStrings("", generic); err != nil {
			return nil, err
		}
	}
	if err := k.check(in); err != nil {
		return nil, err
	}
	return in, nil
}

// plainStrings refuses control and text-direction characters in every
// string of a decoded JSON value, naming the field by its path.
func plainStrings(path string, v any) error {
	switch v := v.(type) {
	case string:
		return workflows.PlainText(cmp.Or(path, "the input"), v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if k == "document" {
				continue // a document's text is checked for readability by its workflow
			}
			if err := plainStrings(strings.TrimPrefix(path+"."+k, "."), v[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, item := range v {
			if err := plainStrings(fmt.Sprintf("%s[%d]", path, i), item); err != nil {
				return err
			}
		}
	}
	return nil
}

// Client starts and drives Tandem runs through a Temporal client.
type Client struct {
	Temporal  client.Client
	TaskQueue string // the Tandem worker's task queue, "tandem" by default
	StartedBy string // who starts runs through it, in each run's memo; "api" by default
	// DataConverter reads what runs keep in their memo (their usage); the
	// Temporal client's own must be given here when payloads are encrypted.
	DataConverter converter.DataConverter
}

// NewClient returns a Tandem client on an open Temporal client.
func NewClient(c client.Client, taskQueue string) *Client {
	if taskQueue == "" {
		taskQueue = "tandem"
	}
	return &Client{Temporal: c, TaskQueue: taskQueue}
}

// Run is a started Tandem run whose result is an R.
type Run[R any] struct {
	c   *Client
	ID  string
	Run client.WorkflowRun
	// Existing is true when the start found a run already started under the
	// same id (a retried request), and returned it.
	Existing bool
}

// MaxInputBytes bounds a run's encoded input, well under Temporal's 2 MB
// payload limit, so that an oversized input is refused before a run starts
// instead of failing it.
const MaxInputBytes = 1 << 20

// MaxKeyLength bounds an idempotency key.
const MaxKeyLength = 200

// WorkflowID is the run id an idempotency key maps to: the same key always
// names the same run, two different keys never do, and the id shows
// nothing of the key (keys often carry names or document numbers).
func WorkflowID(kind, idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return kind + "-" + hex.EncodeToString(sum[:12])
}

// NewKey returns a fresh random idempotency key, for a run that no retry
// needs to find again.
func NewKey() string {
	return rand.Text()
}

// CheckKey refuses, with a sentence, an idempotency key that cannot name a run.
func CheckKey(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return errors.New("an idempotency key is required (idempotencyKey or the Idempotency-Key header); a retry with the same key returns the same run")
	case len(key) > MaxKeyLength:
		return fmt.Errorf("the idempotency key is %d characters; keep it to %d", len(key), MaxKeyLength)
	case !utf8.ValidString(key) || strings.IndexFunc(key, unicode.IsControl) >= 0:
		return errors.New("the idempotency key has control characters or is not UTF-8; use printable text")
	}
	return nil
}

// StartOptions are what a caller adds to a run besides its input.
type StartOptions struct {
	Memo map[string]any // shown in the Web UI's run details
	// SearchAttributes are set besides kind, sandbox and input digest.
	SearchAttributes []temporal.SearchAttributeUpdate
}

// Start starts a run of kind with input under id, or returns the run already
// started under that id with the same input (existing is then true):
// starting twice never starts a second run, and the same id with another
// input is refused with a ConflictError. The input is checked as its kind
// requires first. A context from sandbox.With starts a sandboxed run (the
// Temporal client needs sandbox.Propagator).
func (c *Client) Start(ctx context.Context, kind Kind, id string, input any) (run client.WorkflowRun, existing bool, err error) {
	return c.StartWith(ctx, kind, id, input, StartOptions{})
}

// StartWith is Start with a caller's memo and search attributes.
func (c *Client) StartWith(ctx context.Context, kind Kind, id string, input any, opts StartOptions) (run client.WorkflowRun, existing bool, err error) {
	if id == "" {
		return nil, false, errors.New("a run needs an id; derive it from an idempotency key with WorkflowID")
	}
	encoded, err := json.Marshal(input)
	if err != nil {
		return nil, false, fmt.Errorf("the %s input cannot be encoded as JSON: %w", kind.Name, err)
	} else if len(encoded) > MaxInputBytes {
		return nil, false, &TooLargeError{Kind: kind.Name, Bytes: len(encoded)}
	}
	if _, err := kind.DecodeInput(encoded); err != nil {
		if err = c.checkWithWorkerProfiles(ctx, kind, encoded, err); err != nil {
			return nil, false, &InvalidInputError{Err: err}
		}
	}
	digest := inputDigest(id, encoded)
	memo := map[string]any{"kind": kind.Name, "startedBy": cmp.Or(c.StartedBy, "api"), "sandbox": sandbox.On(ctx)}
	maps.Copy(memo, opts.Memo)
	attrs := append([]temporal.SearchAttributeUpdate{runs.KindKey.ValueSet(kind.Name),
		runs.SandboxKey.ValueSet(sandbox.On(ctx)), runs.InputDigestKey.ValueSet(digest)}, opts.SearchAttributes...)
	run, err = c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: c.TaskQueue,
		// A start under an id that is taken, by a retry or by a start that
		// won a race, fails, and is answered below from the run there.
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(attrs...),
		Memo:                                     memo,
	}, kind.Workflow, input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		desc, derr := c.Temporal.DescribeWorkflowExecution(ctx, id, "")
		if derr != nil {
			return nil, false, fmt.Errorf("start %s %s: %w", kind.Name, id, derr)
		}
		return c.existing(ctx, kind, id, digest, desc.GetWorkflowExecutionInfo().GetSearchAttributes())
	}
	if err != nil && strings.Contains(err.Error(), "no mapping defined for search attribute") {
		return nil, false, fmt.Errorf("the Temporal namespace has no Tandem search attributes yet; start a Tandem worker once (it registers them), then start the %s again", kind.Name)
	}
	if err != nil {
		return nil, false, fmt.Errorf("start %s %s: %w", kind.Name, id, err)
	}
	return run, false, nil
}

// existing returns the run already under id when it was started with the
// same input, and a ConflictError when it was not.
func (c *Client) existing(ctx context.Context, kind Kind, id, digest string, attrs *commonpb.SearchAttributes) (client.WorkflowRun, bool, error) {
	if got := digestOf(attrs); got != digest {
		return nil, false, &ConflictError{Kind: kind.Name, ID: id}
	}
	return c.Temporal.GetWorkflow(ctx, id, ""), true, nil
}

// inputDigest identifies a run's input without revealing it: a SHA-256 of
// the id and the input's JSON.
func inputDigest(id string, encoded []byte) string {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(encoded)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func digestOf(attrs *commonpb.SearchAttributes) string {
	p := attrs.GetIndexedFields()[runs.InputDigestKey.GetName()]
	if p == nil {
		return ""
	}
	var s string
	_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	return s
}

// ConflictError refuses a start whose idempotency key names a run that was
// started with another input.
type ConflictError struct{ Kind, ID string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the idempotency key names %s run %s, which was started with another input; use a new key for a new %s", e.Kind, e.ID, e.Kind)
}

// Profiles returns the agent profiles the workers have loaded: the
// built-in ones and those of their TANDEM_PROFILES_DIR.
func (c *Client) Profiles(ctx context.Context) ([]workflows.AgentProfile, error) {
	run, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "tandem-agent-profiles", TaskQueue: c.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionTimeout: time.Minute}, workflows.AgentProfilesName)
	if err != nil {
		return nil, fmt.Errorf("ask the workers for their agent profiles: %w", err)
	}
	var profiles []workflows.AgentProfile
	if err := run.Get(ctx, &profiles); err != nil {
		return nil, fmt.Errorf("ask the workers for their agent profiles: %w", err)
	}
	return profiles, nil
}

// checkWithWorkerProfiles checks an agent input whose profile this process
// does not know against the profiles the workers loaded; other inputs keep
// the error they had.
func (c *Client) checkWithWorkerProfiles(ctx context.Context, kind Kind, encoded []byte, err error) error {
	var in workflows.AgentInput
	if kind.Name != "agent" || json.Unmarshal(encoded, &in) != nil {
		return err
	}
	if _, known := workflows.ProfileNamed(in.Profile); known == nil {
		return err
	}
	profiles, perr := c.Profiles(ctx)
	if perr != nil {
		return err
	}
	return in.CheckStartAgainst(profiles)
}

func start[R any](ctx context.Context, c *Client, kindName, id string, input any) (*Run[R], error) {
	kind, err := KindNamed(kindName)
	if err != nil {
		return nil, err
	}
	run, existing, err := c.Start(ctx, kind, id, input)
	if err != nil {
		return nil, err
	}
	return &Run[R]{c: c, ID: id, Run: run, Existing: existing}, nil
}

// StartTicketRouting starts a ticket routing under id.
func (c *Client) StartTicketRouting(ctx context.Context, id string, in workflows.TicketRoutingInput) (*Run[workflows.TicketRoutingResult], error) {
	return start[workflows.TicketRoutingResult](ctx, c, "ticket-routing", id, in)
}

// StartInvoice starts an invoice processing under id.
func (c *Client) StartInvoice(ctx context.Context, id string, in workflows.InvoiceInput) (*Run[workflows.InvoiceResult], error) {
	return start[workflows.InvoiceResult](ctx, c, "invoice", id, in)
}

// StartLeave starts a leave approval under id.
func (c *Client) StartLeave(ctx context.Context, id string, in workflows.LeaveInput) (*Run[workflows.LeaveResult], error) {
	return start[workflows.LeaveResult](ctx, c, "leave", id, in)
}

// StartCompliance starts a compliance monitoring run under id.
func (c *Client) StartCompliance(ctx context.Context, id string, in workflows.ComplianceInput) (*Run[workflows.ComplianceResult], error) {
	return start[workflows.ComplianceResult](ctx, c, "compliance", id, in)
}

// StartAgent starts an agent run under id.
func (c *Client) StartAgent(ctx context.Context, id string, in workflows.AgentInput) (*Run[workflows.AgentResult], error) {
	return start[workflows.AgentResult](ctx, c, "agent", id, in)
}

// Result waits for the run to end and returns its result.
func (r *Run[R]) Result(ctx context.Context) (R, error) {
	var res R
	err := r.Run.Get(ctx, &res)
	return res, err
}

// Status returns the run's current step and any pending decision.
func (r *Run[R]) Status(ctx context.Context) (runs.Status, error) {
	return r.c.Status(ctx, r.ID)
}

// Decide sends a person's decision to the run's pending decision.
func (r *Run[R]) Decide(ctx context.Context, d runs.Decision) error {
	return r.c.Decide(ctx, r.ID, d)
}

// Status returns a run's current step and any pending decision.
func (c *Client) Status(ctx context.Context, id string) (runs.Status, error) {
	var st runs.Status
	val, err := c.Temporal.QueryWorkflow(ctx, id, "", runs.StatusQuery)
	if err != nil {
		return st, notFound(id, err)
	}
	return st, val.Get(&st)
}

// Agent returns an agent run's recent transcript, pending approval and
// budget.
func (c *Client) Agent(ctx context.Context, id string) (workflows.AgentView, error) {
	var view workflows.AgentView
	val, err := c.Temporal.QueryWorkflow(ctx, id, "", runs.AgentQuery)
	if err != nil {
		return view, notFound(id, err)
	}
	return view, val.Get(&view)
}

// ErrNotFound is returned for a run id that does not exist.
var ErrNotFound = errors.New("no such run")

// TooLargeError refuses an input over MaxInputBytes, before a run starts.
type TooLargeError struct {
	Kind  string
	Bytes int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the %s input is %d KB, over the %d KB a run takes (Temporal refuses payloads over 2 MB); store large documents and pass their id",
		e.Kind, e.Bytes>>10, MaxInputBytes>>10)
}

// InvalidInputError refuses an input its kind does not accept, before a run
// starts; its text says what is wrong.
type InvalidInputError struct{ Err error }

func (e *InvalidInputError) Error() string { return e.Err.Error() }
func (e *InvalidInputError) Unwrap() error { return e.Err }

// ErrRefused wraps a decision or message a run refused; its text says why.
var ErrRefused = errors.New("refused")

// Decide sends a person's decision to a run's pending decision.
func (c *Client) Decide(ctx context.Context, id string, d runs.Decision) error {
	return c.update(ctx, id, runs.DecisionUpdate, d)
}

// Message sends a person's message to a running agent.
func (c *Client) Message(ctx context.Context, id string, m runs.AgentMessage) error {
	return c.update(ctx, id, runs.MessageUpdate, m)
}

// Event delivers another system's event to a running agent; it wakes the
// agent when it sleeps (wait, wait_for_event).
func (c *Client) Event(ctx context.Context, id string, e runs.AgentEvent) error {
	return c.update(ctx, id, runs.EventUpdate, e)
}

// CampaignResults delivers a campaign's results, from the system that
// sends, to the agent running the campaign: the run keeps them in the store
// (once per campaign and batch) and wakes. Results that are not valid, or
// name a campaign or content the store does not know, are refused with a
// sentence.
func (c *Client) CampaignResults(ctx context.Context, id, from string, r workflows.CampaignResults) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode the campaign results: %w", err)
	}
	if _, err := workflows.ParseCampaignResults(string(data)); err != nil {
		return &InvalidInputError{Err: err}
	}
	return c.Event(ctx, id, runs.AgentEvent{Name: workflows.CampaignResultsEvent, From: from, Data: string(data)})
}

func (c *Client) update(ctx context.Context, id, name string, arg any) error {
	handle, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	if err == nil {
		return nil
	}
	if nf := notFound(id, err); errors.Is(nf, ErrNotFound) {
		return nf
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return fmt.Errorf("%w: %s", ErrRefused, appErr.Message())
	}
	msg := err.Error()
	if strings.Contains(msg, "already completed") {
		return fmt.Errorf("%w: run %s is already closed; there is nothing left to decide", ErrRefused, id)
	}
	if strings.Contains(msg, "aborted by closing workflow") {
		return fmt.Errorf("%w: run %s is already decided and closing; there is nothing left to decide", ErrRefused, id)
	}
	return fmt.Errorf("%w: %s", ErrRefused, msg)
}

func notFound(id string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) && !strings.Contains(err.Error(), "already completed") {
		return fmt.Errorf("%w: there is no run %s", ErrNotFound, id)
	}
	return err
}

// Pending is a run waiting for a person.
type Pending struct {
	WorkflowID string                `json:"workflowId"`
	Kind       string                `json:"kind"`
	Decision   *runs.PendingDecision `json:"decision"`
}

// PendingDecisions lists the runs waiting for a person, with what they ask,
// oldest first. Each run answers its status Query, eight at a time; a run
// whose workers do not answer within statusTimeout (they are stopped, or
// busy) is left out rather than holding up the list.
func (c *Client) PendingDecisions(ctx context.Context, namespace string) ([]Pending, error) {
	var ids []string
	req := listRequest(namespace)
	for {
		resp, err := c.Temporal.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list waiting runs: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		if req.NextPageToken = resp.GetNextPageToken(); len(req.NextPageToken) == 0 {
			break
		}
	}
	found := make([]*Pending, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(8, len(ids)) {
		wg.Go(func() {
			for i := range next {
				qctx, cancel := context.WithTimeout(ctx, statusTimeout)
				st, err := c.Status(qctx, ids[i])
				cancel()
				if err == nil && st.Pending != nil {
					found[i] = &Pending{WorkflowID: ids[i], Kind: st.Kind, Decision: st.Pending}
				}
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []Pending
	for _, p := range found {
		if p != nil {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Pending) int { return a.Decision.Since.Compare(b.Decision.Since) })
	return out, nil
}

// statusTimeout bounds one run's status Query in a list of runs.
const statusTimeout = 3 * time.Second
