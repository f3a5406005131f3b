package workflows

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/schema"
	"github.com/tandemhq/tandem/internal/text"
)

// AgentInput starts an agent run. Policy narrows the profile's policy (see
// AgentPolicy.narrowedBy); it can never widen it. State is the run's own
// continue-as-new state: a run started with it by anyone else is refused.
type AgentInput struct {
	Goal    string `json:"goal"`
	Context string `json:"context,omitempty"`
	Profile string `json:"profile"`
	// RequestedBy is who the run is for, a customer id or an email address:
	// an approver of a message sees whether it goes to them.
	RequestedBy string       `json:"requestedBy,omitempty"`
	Policy      *AgentPolicy `json:"policy,omitempty"`
	// Vars fill the profile's goal template when the run gives no goal.
	Vars map[string]string `json:"vars,omitempty"`
	// Within caps the budgets below the profile's, as a delegating agent
	// carves them out of its own; Depth is how many agents above this one
	// delegated to it.
	Within *BudgetCap    `json:"within,omitempty"`
	Depth  int           `json:"depth,omitempty"`
	Model  ModelSettings `json:"model,omitzero"`
	State  *AgentState   `json:"state,omitempty"`
}

// CheckStart refuses, with a sentence, an agent input that no caller may
// start a run with: no goal, a profile this process does not know, a policy
// that widens the profile's, or carried-over state.
func (in AgentInput) CheckStart() error {
	return in.CheckStartAgainst(Profiles)
}

// CheckStartAgainst is CheckStart with the profiles a worker loaded.
func (in AgentInput) CheckStartAgainst(profiles []AgentProfile) error {
	if in.State != nil {
		return ErrForeignState
	}
	profile, err := profileIn(profiles, in.Profile)
	if err != nil {
		return err
	}
	_, _, err = in.underProfile(profile)
	return err
}

// ErrForeignState refuses continue-as-new state from anywhere but the run's
// own continue-as-new.
var ErrForeignState = errors.New("an agent run's state is carried over by its own continue-as-new only; start a run with a goal and a profile")

// underProfile is the run's goal (given, or filled from the profile's
// template) and the policy it runs under, before the data policy's rules.
func (in AgentInput) underProfile(profile AgentProfile) (string, AgentPolicy, error) {
	goal := in.Goal
	if strings.TrimSpace(goal) == "" && len(in.Vars) > 0 {
		var err error
		if goal, err = profile.fillGoal(in.Vars); err != nil {
			return "", AgentPolicy{}, err
		}
	}
	if strings.TrimSpace(goal) == "" {
		return "", AgentPolicy{}, errors.New("the agent needs a goal, or vars for its profile's goal template")
	}
	policy := profile.Policy.withDefaults()
	if in.Policy != nil {
		var err error
		if policy, err = policy.narrowedBy(*in.Policy); err != nil {
			return goal, policy, err
		}
	}
	if in.Depth < 0 {
		return goal, policy, errors.New("depth is how many agents delegated to this one; it cannot be negative")
	}
	if w := in.Within; w != nil {
		if w.MaxSteps < 1 || w.MaxTokens < 1 {
			return goal, policy, errors.New("a budget cap needs at least 1 step and 1 token")
		}
		policy.MaxSteps, policy.MaxTokens = min(policy.MaxSteps, w.MaxSteps), min(policy.MaxTokens, w.MaxTokens)
	}
	if err := PlainText("goal", goal); err != nil {
		return goal, policy, err
	}
	if err := fitsModel("the goal and its context", goal+"\n"+in.Context, agentStepTokens, policy.ContextSize); err != nil {
		return goal, policy, err
	}
	return goal, policy, policy.validate()
}

// AgentState is what an agent run carries over continue-as-new.
type AgentState struct {
	RunKey       string            `json:"runKey"` // the first run's workflow id; keys the transcript in the store
	Goal         string            `json:"goal"`   // as given, or filled from the profile's template
	RequestedBy  string            `json:"requestedBy,omitempty"`
	Model        ModelSettings     `json:"model"`
	Policy       AgentPolicy       `json:"policy"`
	StartedAt    time.Time         `json:"startedAt"`
	Turn         int               `json:"turn"`      // last turn number
	Decisions    int               `json:"decisions"` // model decisions so far (the step budget)
	Tokens       int               `json:"tokens"`
	CallsPerTool map[string]int    `json:"callsPerTool"`
	Invalid      int               `json:"invalid"` // invalid calls in a row
	Pending      []activities.Turn `json:"pending,omitempty"`
	Recent       []activities.Turn `json:"recent,omitempty"`
	Summary      string            `json:"summary,omitempty"`
	Trail        []TrailEntry      `json:"trail"`
	Events       []PolicyEvent     `json:"events,omitempty"`
	Runs         int               `json:"runs"`           // continue-as-new count
	Read         []string          `json:"read,omitempty"` // what tool calls read
	ModelCalls   int               `json:"modelCalls"`
	// Rejected holds the calls people rejected, by tool and arguments, with
	// who said no and why: the same call is not put to them again.
	Rejected map[string]string `json:"rejected,omitempty"`
	// Arrivals are the events and messages the model has not seen yet; a
	// sleeping agent wakes on them.
	Arrivals []AgentEvent `json:"arrivals,omitempty"`

	Depth     int          `json:"depth,omitempty"`     // agents above this one
	Delegated int          `json:"delegated,omitempty"` // sub-agents this run started
	Models    []ModelScore `json:"models,omitempty"`    // how each model did
	Fallbacks int          `json:"fallbacks,omitempty"` // fallback models moved to
	// Always are the tools a person approved for the rest of the run, with
	// who approved them (starter approve --always).
	Always map[string]string `json:"always,omitempty"`
	// MCP are the MCP tools the run recorded at its start.
	MCP []activities.MCPTool `json:"mcp,omitempty"`
	// CompactedAt is the decision count at the last compaction; -1 before any.
	CompactedAt int `json:"compactedAt"`
	LastKeep    int `json:"lastKeep"` // turns the last compaction kept word for word
}

// TrailEntry is one executed step of the trail behind an answer.
type TrailEntry struct {
	Step    int             `json:"step"`
	Tool    string          `json:"tool"`
	Args    json.RawMessage `json:"args,omitempty"`
	Outcome string          `json:"outcome"` // ok, invalid, denied, rejected, failed
	By      string          `json:"by,omitempty"`
}

// PolicyEvent is a denial, an approval or a refusal the policy caused.
type PolicyEvent struct {
	Step   int    `json:"step"`
	Tool   string `json:"tool"`
	Kind   string `json:"kind"` // denied, approved, edited, rejected
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// AgentBudget is how much of its budget a run has used.
type AgentBudget struct {
	Steps     int           `json:"steps"`
	MaxSteps  int           `json:"maxSteps"`
	Tokens    int           `json:"tokens"`
	MaxTokens int           `json:"maxTokens"`
	Calls     []ToolCount   `json:"calls"`
	Elapsed   time.Duration `json:"elapsed"`
	Deadline  time.Duration `json:"deadline"`
}

// ToolCount is how often one tool was called.
type ToolCount struct {
	Tool  string `json:"tool"`
	Calls int    `json:"calls"`
}

// AgentView is what the agent Query returns.
type AgentView struct {
	Goal    string            `json:"goal"`
	Profile string            `json:"profile"`
	Step    string            `json:"step"`
	Summary string            `json:"summary,omitempty"`
	Recent  []activities.Turn `json:"recent"`
	Pending *PendingDecision  `json:"pending,omitempty"`
	Budget  AgentBudget       `json:"budget"`
}

// AgentResult is how an agent run ended.
type AgentResult struct {
	Outcome    string        `json:"outcome"` // finished, budget, deadline, invalid, context
	Reason     string        `json:"reason"`
	Answer     string        `json:"answer,omitempty"`
	Cited      []string      `json:"cited,omitempty"`  // the sources the model cited
	Read       []string      `json:"read,omitempty"`   // what the run's tool calls read
	Unread     []string      `json:"unread,omitempty"` // cited, but never read in this run
	Trail      []TrailEntry  `json:"trail"`
	Events     []PolicyEvent `json:"events,omitempty"`
	Budget     AgentBudget   `json:"budget"`
	Runs       int           `json:"runs"`
	ModelCalls int           `json:"modelCalls"`
	Models     []ModelScore  `json:"models,omitempty"` // which models decided, and how many of their answers were valid
}

// ErrInvalidAgent is the application error type of an agent run that cannot start.
const ErrInvalidAgent = "InvalidAgentInput"

// agentStepTokens is room for one decision and the tool catalogue.
const agentStepTokens = 1200

// recentTurns is how many turns the Query shows.
const recentTurns = 8

// Agent runs a goal with the model choosing each step from the profile's
// tools, under its data policy: the allowlist, approvals, budgets and a
// deadline. It continues as new with a compacted transcript when Temporal
// suggests it or the next prompt would not fit the model's context.
func Agent(ctx workflow.Context, in AgentInput) (AgentResult, error) {
	usedProfile(ctx, in.Profile)
	d, err := newDecisions(ctx, "agent")
	if err != nil {
		return AgentResult{}, err
	}
	st := &AgentState{}
	if err := serveAgent(ctx, d, in, st); err != nil {
		return AgentResult{}, err
	}
	ctx, rules, err := recordDataPolicy(ctx)
	if err != nil {
		return AgentResult{}, err
	}
	if err := startAgent(ctx, d, in, st, rules.Agent); err != nil {
		var unavailable errToolsUnavailable
		if errors.As(err, &unavailable) {
			return st.end(ctx, d, "unavailable", unavailable.reason, FinishArgs{})
		}
		return AgentResult{}, err
	}
	policy := st.Policy

	for {
		var changed string
		if ctx, changed, err = followPolicyChanges(ctx); err != nil {
			return AgentResult{}, err
		} else if changed != "" {
			st.Policy = st.Policy.underDataPolicy(runPolicy(ctx).Agent)
			policy = st.Policy
			st.Events = append(st.Events, PolicyEvent{Step: st.Turn, Tool: "policy", Kind: "policy changed",
				Reason: "the worker's data policy changed; from this step the run follows " + changed})
		}
		if outcome, reason := st.exhausted(workflow.Now(ctx)); outcome != "" {
			return st.end(ctx, d, outcome, reason, FinishArgs{})
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return AgentResult{}, st.continueAsNew(ctx, d, in, policy.KeepTurns)
		}

		d.step(ctx, "running", fmt.Sprintf("Step %d: the model chooses the next tool", st.Decisions+1))
		dec, err := st.decide(ctx)
		if err != nil {
			if st.fallsBack(ctx, err) {
				continue
			}
			return AgentResult{}, err
		}
		if dec.NeedsCompaction {
			keep := policy.KeepTurns
			if st.CompactedAt == st.Decisions { // compacted, and it still does not fit
				if st.LastKeep == 0 {
					return st.end(ctx, d, "context", fmt.Sprintf("the prompt is about %d tokens even with every turn summarised, "+
						"more than the model's %d-token context allows; raise contextSize or shorten the goal", dec.PromptTokens, policy.ContextSize), FinishArgs{})
				}
				keep = 0
			}
			return AgentResult{}, st.continueAsNew(ctx, d, in, keep)
		}
		st.Decisions++
		st.Tokens += dec.Call.PromptTokens + dec.Call.OutputTokens
		st.ModelCalls++
		usedModel(ctx, dec.Call)
		trail, events := len(st.Trail), len(st.Events)

		if dec.Tool == FinishTool {
			var fin FinishArgs
			if err := checkArgs(activities.FinishSchema, dec.Args); err == nil && decodeArgs(dec.Args, &fin) == nil {
				st.count(ctx, in.Profile, trail, events)
				st.score(ctx, dec.Call.Model, true)
				return st.end(ctx, d, "finished", "the agent finished", fin)
			} else {
				st.invalid(dec, "finish needs an answer and its sources: "+errText(err))
			}
		} else {
			st.act(ctx, d, dec)
		}
		st.count(ctx, in.Profile, trail, events)
		st.score(ctx, dec.Call.Model, st.Invalid == 0)
		if st.Invalid >= runPolicy(ctx).Models.InvalidBeforeFallback() &&
			st.fallBack(ctx, fmt.Sprintf("%d invalid tool calls in a row", st.Invalid)) {
			continue
		}
		if st.Invalid >= policy.MaxInvalid {
			return st.end(ctx, d, "invalid", fmt.Sprintf("%d invalid tool calls in a row", st.Invalid), FinishArgs{})
		}
	}
}

// count records one agent step in the metrics, with the tool calls and
// policy denials it added to the trail and events: through the SDK's
// metrics handler, which records nothing on replay.
func (st *AgentState) count(ctx workflow.Context, profile string, trail, events int) {
	metrics := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"profile": profile})
	metrics.Counter(metricAgentSteps).Inc(1)
	for _, e := range st.Trail[trail:] {
		metrics.WithTags(map[string]string{"tool": e.Tool, "outcome": e.Outcome}).Counter(metricAgentToolCalls).Inc(1)
	}
	for _, e := range st.Events[events:] {
		if e.Kind == "denied" {
			metrics.WithTags(map[string]string{"tool": e.Tool}).Counter(metricAgentDenials).Inc(1)
		}
	}
}

// FinishArgs is the final answer, as the finish tool takes it.
type FinishArgs = activities.FinishArgs

// startAgent checks the input and sets up the run's state in st: fresh, or
// carried over continue-as-new. Messages that arrived already are kept.
func startAgent(ctx workflow.Context, d *decisions, in AgentInput, st *AgentState, rules dataAgentRules) error {
	early := st.Pending
	defer func() {
		for _, t := range early {
			t.Step = st.Turn + 1
			st.Turn++
			st.record(t)
		}
	}()
	invalid := func(err error) error {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidAgent, nil)
	}
	if in.State != nil {
		info := workflow.GetInfo(ctx)
		if info.ContinuedExecutionRunID == "" || in.State.RunKey != info.WorkflowExecution.ID {
			return invalid(ErrForeignState)
		}
		*st = *in.State
		st.Runs++
		st.Policy = st.Policy.underDataPolicy(rules)
		return nil
	}
	profile, err := recordProfile(ctx, in.Profile)
	if err != nil {
		return err
	}
	goal, policy, err := in.underProfile(profile)
	if err != nil {
		return invalid(err)
	}
	policy = policy.underDataPolicy(rules)
	model, err := resolveModel(ctx, in.Model)
	if err != nil {
		return err
	}
	*st = AgentState{
		RunKey: workflow.GetInfo(ctx).WorkflowExecution.ID, Goal: goal, RequestedBy: in.RequestedBy, Depth: in.Depth, Model: model, Policy: policy,
		StartedAt: workflow.Now(ctx).UTC(), CallsPerTool: map[string]int{}, CompactedAt: -1,
	}
	if policy.usesMCP() {
		if err := listMCPTools(ctx, st, rules); err != nil {
			return err
		}
	}
	frame := activities.AgentFrame{RunKey: st.RunKey, Goal: goal, Context: in.Context, Profile: profile.Name,
		Instructions: profile.Instructions}
	for _, name := range st.Policy.Tools {
		t, _ := st.tool(name)
		frame.Tools = append(frame.Tools, activities.ToolSpec{Name: t.Name, Description: t.Description, Args: t.Args})
	}
	d.step(ctx, "starting", "Recording the goal, instructions and tool catalogue")
	var store *activities.Store
	return workflow.ExecuteActivity(withStore(ctx, "record the goal and the tool catalogue"), store.SaveAgentFrame, frame).Get(ctx, nil)
}

// serveAgent registers the chat Update and the agent Query.
func serveAgent(ctx workflow.Context, d *decisions, in AgentInput, st *AgentState) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, MessageUpdate,
		func(ctx workflow.Context, m AgentMessage) (int, error) {
			return st.arrive(AgentEvent{Name: "message", From: m.From, Data: m.Text},
				activities.Turn{Kind: "message", From: m.From, Observation: m.Text}), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, m AgentMessage) error {
			switch {
			case strings.TrimSpace(m.From) == "":
				return errors.New("say who writes the message (from)")
			case strings.TrimSpace(m.Text) == "":
				return errors.New("the message is empty")
			case len(m.Text) > activities.MaxObservation:
				return fmt.Errorf("the message is %d characters; keep it under %d", len(m.Text), activities.MaxObservation)
			}
			return nil
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, EventUpdate,
		func(ctx workflow.Context, e AgentEvent) (int, error) {
			if e.Name == activities.CampaignResultsEvent {
				kept, err := recordCampaignResults(ctx, e)
				if err != nil {
					return 0, err
				}
				e.Data = kept + ": " + e.Data
			}
			return st.arrive(e, activities.Turn{Kind: "event", Tool: e.Name, From: e.From, Observation: e.Data}), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, e AgentEvent) error { return checkEvent(e) }})
	if err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, AgentQuery, func() (AgentView, error) {
		return AgentView{Goal: cmp.Or(st.Goal, in.Goal), Profile: in.Profile, Step: d.status.Step, Summary: st.Summary,
			Recent: st.Recent, Pending: d.status.Pending, Budget: st.budget(workflow.Now(ctx))}, nil
	})
}

// decide asks the model for the next step, sending the turns it has not seen.
func (st *AgentState) decide(ctx workflow.Context) (activities.DecideResult, error) {
	req := activities.DecideRequest{RunKey: st.RunKey, Model: st.Model.Model, Mode: st.Policy.Mode,
		ContextSize: st.Policy.ContextSize, Allowed: st.allowedNow(), NewTurns: st.Pending}
	var agent *activities.Agent
	var res activities.DecideResult
	err := workflow.ExecuteActivity(withModel(ctx, st.Model, fmt.Sprintf("agent step %d: choose among %s", st.Decisions+1,
		strings.Join(req.Allowed, ", "))), agent.Decide, req).Get(ctx, &res)
	if err == nil {
		st.Pending, st.Arrivals = nil, nil
	}
	return res, err
}

// allowedNow is the allowlist minus tools whose call budget is spent: the
// model's enum for this step.
func (st *AgentState) allowedNow() []string {
	var out []string
	for _, name := range st.Policy.Tools {
		if limit, ok := st.Policy.MaxCallsPerTool[name]; !ok || st.CallsPerTool[name] < limit {
			out = append(out, name)
		}
	}
	return out
}

// act checks one decided tool call against the policy and runs it.
func (st *AgentState) act(ctx workflow.Context, d *decisions, dec activities.DecideResult) {
	tool, known := st.tool(dec.Tool)
	switch {
	case !known || !slices.Contains(st.Policy.Tools, dec.Tool):
		st.refuse(dec, "denied", fmt.Sprintf("tool %s is not allowed for this agent", dec.Tool))
		return
	case !slices.Contains(st.allowedNow(), dec.Tool):
		st.refuse(dec, "denied", fmt.Sprintf("tool %s has used its %d calls", dec.Tool, st.Policy.MaxCallsPerTool[dec.Tool]))
		return
	}
	if err := checkArgs(tool.Args, dec.Args); err != nil {
		st.invalid(dec, err.Error())
		return
	}
	args, approvedBy := dec.Args, ""
	if by, ok := st.Always[tool.Name]; ok {
		approvedBy = by + " (always)"
	} else if st.Policy.needsApproval(tool.Name) {
		key := callKey(tool.Name, dec.Args)
		if earlier, ok := st.Rejected[key]; ok {
			st.refuse(dec, "denied", fmt.Sprintf("this exact %s call was rejected earlier in this run (%s); it will not be asked again, "+
				"so change the call or do something else", tool.Name, earlier))
			return
		}
		d.editCheck = func(edit string) error { return checkArgs(tool.Args, json.RawMessage(edit)) }
		answer := d.ask(ctx, Question{Text: fmt.Sprintf("Allow %s %s? The agent says: %s", tool.Name, dec.Args, dec.Thought),
			Details: approvalDetails(ctx, st, tool, dec.Args), AllowEdit: true, AllowAlways: true}, st.Policy.approvalPolicy())
		d.editCheck = nil
		if !answer.Approve {
			if st.Rejected == nil {
				st.Rejected = map[string]string{}
			}
			st.Rejected[key] = fmt.Sprintf("%s said no: %s", answer.By, answer.Reason)
			st.Events = append(st.Events, PolicyEvent{Step: st.Turn + 1, Tool: tool.Name, Kind: "rejected", By: answer.By, Reason: answer.Reason})
			st.refuse(dec, "rejected", fmt.Sprintf("%s said no: %s. Do not ask for this same call again.", answer.By, answer.Reason))
			return
		}
		kind := "approved"
		if answer.Edit != "" {
			args, kind = json.RawMessage(answer.Edit), "edited"
		}
		if answer.Always {
			if st.Always == nil {
				st.Always = map[string]string{}
			}
			st.Always[tool.Name], kind = answer.By, kind+" for the rest of the run"
		}
		approvedBy = answer.By
		st.Events = append(st.Events, PolicyEvent{Step: st.Turn + 1, Tool: tool.Name, Kind: kind, By: answer.By})
	}

	st.Turn++
	step := st.Turn // events and messages that arrive while the tool runs take the steps after it
	st.CallsPerTool[tool.Name]++
	d.step(ctx, "running", fmt.Sprintf("Step %d: %s", st.Decisions, tool.Name))
	result, err := runTool(ctx, d, st, tool, args, approvedBy)
	turn := activities.Turn{Step: step, Kind: "tool", Thought: dec.Thought, Tool: tool.Name, Args: args, Observation: result.Observation}
	outcome := "ok"
	if err != nil {
		turn.Observation, outcome = "the tool failed: "+rootMessage(err), "failed"
	}
	st.Invalid = 0
	st.Read = appendNew(st.Read, result.Read...)
	st.Trail = append(st.Trail, TrailEntry{Step: step, Tool: tool.Name, Args: args, Outcome: outcome, By: approvedBy})
	st.record(turn)
}

// callKey names a tool call by its tool and its arguments in canonical
// JSON, so that the same call is recognised however it is spaced.
func callKey(tool string, args json.RawMessage) string {
	var v any
	if decodeArgs(args, &v) != nil {
		return tool + " " + string(args)
	}
	// Encoding JSON is deterministic: map keys are sorted.
	//workflowcheck:ignore
	canonical, _ := json.Marshal(v)
	return tool + " " + string(canonical)
}

// approvalDetails is what the approver reads besides the arguments: where a
// message goes and its whole text, what a refund takes from which order.
// Details that cannot be read leave the question as it is.
func approvalDetails(ctx workflow.Context, st *AgentState, tool Tool, args json.RawMessage) string {
	var tools *activities.Tools
	var details string
	call := activities.ToolCall{RunKey: st.RunKey, Step: st.Turn + 1, Name: tool.Name, Args: args, RequestedBy: st.RequestedBy}
	if err := workflow.ExecuteLocalActivity(withLookup(ctx, "details for the approver of "+tool.Name), tools.ApprovalDetails, call).
		Get(ctx, &details); err != nil {
		return "Details could not be read: " + rootMessage(err)
	}
	return details
}

// runTool runs one allowed, valid, approved tool call the way the catalogue says.
func runTool(ctx workflow.Context, d *decisions, st *AgentState, tool Tool, args json.RawMessage, approvedBy string) (activities.ToolResult, error) {
	call := activities.ToolCall{RunKey: st.RunKey, Step: st.Turn, Name: tool.Name, Args: args, ApprovedBy: approvedBy}
	summary := fmt.Sprintf("%s %s", tool.Name, oneLineArgs(args))
	var tools *activities.Tools
	var res activities.ToolResult
	switch tool.Run {
	case RunInline:
		return activities.ToolResult{Observation: "today is " + workflow.Now(ctx).UTC().Format("Monday 2006-01-02")}, nil
	case RunLocal:
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second, Summary: summary,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrToolInput}}})
		err := workflow.ExecuteLocalActivity(lctx, tools.ReadTool, call).Get(ctx, &res)
		return res, err
	case RunActivity:
		err := workflow.ExecuteActivity(withStore(ctx, summary), tools.WriteTool, call).Get(ctx, &res)
		return res, err
	case RunModel:
		return draftMessage(ctx, st, args)
	case RunChild:
		return runChildTool(ctx, st, tool, args)
	case RunMCP:
		return callMCPTool(ctx, st, call)
	case RunWait:
		return st.sleep(ctx, d, tool, args)
	case RunDelegate:
		return st.delegate(ctx, call.Step, args)
	}
	return res, fmt.Errorf("tool %s has no way to run", tool.Name)
}

func draftMessage(ctx workflow.Context, st *AgentState, args json.RawMessage) (activities.ToolResult, error) {
	var a DraftMessageArgs
	if err := decodeArgs(args, &a); err != nil {
		return activities.ToolResult{}, err
	}
	to := a.CustomerID
	contact, err := resolveCustomer(ctx, "look up the name of customer "+a.CustomerID, activities.CustomerQuery{ID: a.CustomerID})
	if err != nil {
		return activities.ToolResult{}, err
	}
	if contact.MatchedBy == "id" {
		to = fmt.Sprintf("%s (customer %s)", contact.Name, a.CustomerID)
	}
	req := activities.ChatRequest{Purpose: "draft message", Model: st.Model.Model,
		Messages: []activities.Message{
			{Role: "system", Content: "Write a short, warm, personal message from customer service, addressing the customer by name. Plain text."},
			{Role: "user", Content: fmt.Sprintf("To %s. It must say: %s", to, a.About)},
		},
		Options: activities.ModelOptions{MaxTokens: 300}}
	var res activities.ChatResult
	if err := workflow.ExecuteActivity(withModel(ctx, st.Model, "draft a message to "+a.CustomerID), new(activities.Model).Chat, req).Get(ctx, &res); err != nil {
		return activities.ToolResult{}, err
	}
	st.Tokens += res.Call.PromptTokens + res.Call.OutputTokens
	st.ModelCalls++
	usedModel(ctx, res.Call)
	return activities.ToolResult{Observation: "draft (not sent): " + text.Shorten(res.Text, activities.MaxObservation)}, nil
}

// runChildTool hands the call to a fixed workflow as a child, and
// reports what it decided, as the tool's catalogue entry says.
func runChildTool(ctx workflow.Context, st *AgentState, tool Tool, args json.RawMessage) (activities.ToolResult, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    fmt.Sprintf("%s-step-%d-%s", st.RunKey, st.Turn, strings.ReplaceAll(tool.Name, "_", "-")),
		StaticSummary: fmt.Sprintf("%s for agent %s, step %d", tool.Name, st.RunKey, st.Turn),
	})
	input, err := tool.input(ctx, st, args)
	if err != nil {
		return activities.ToolResult{}, err
	}
	var raw json.RawMessage
	if err := workflow.ExecuteChildWorkflow(cctx, tool.Workflow, input).Get(ctx, &raw); err != nil {
		return activities.ToolResult{}, err
	}
	return activities.ToolResult{Observation: tool.summarise(raw), Read: []string{tool.Workflow}}, nil
}

// invalid records a call whose arguments do not match its tool's schema; the
// model sees the validation error and tries again.
func (st *AgentState) invalid(dec activities.DecideResult, why string) {
	st.Turn++
	st.Invalid++
	st.Trail = append(st.Trail, TrailEntry{Step: st.Turn, Tool: dec.Tool, Args: dec.Args, Outcome: "invalid"})
	st.record(activities.Turn{Step: st.Turn, Kind: "invalid", Thought: dec.Thought, Tool: dec.Tool, Args: dec.Args, Observation: why})
}

// refuse records a call the policy or a person refused.
func (st *AgentState) refuse(dec activities.DecideResult, kind, why string) {
	st.Turn++
	if kind == "denied" {
		st.Events = append(st.Events, PolicyEvent{Step: st.Turn, Tool: dec.Tool, Kind: "denied", Reason: why})
	}
	st.Trail = append(st.Trail, TrailEntry{Step: st.Turn, Tool: dec.Tool, Args: dec.Args, Outcome: kind})
	st.record(activities.Turn{Step: st.Turn, Kind: kind, Thought: dec.Thought, Tool: dec.Tool, Args: dec.Args, Observation: why})
}

// record queues a turn for the model's next prompt and the Query.
func (st *AgentState) record(t activities.Turn) {
	st.Pending = append(st.Pending, t)
	st.remember(t)
}

func (st *AgentState) remember(t activities.Turn) {
	st.Recent = append(st.Recent, t)
	if len(st.Recent) > recentTurns {
		st.Recent = st.Recent[len(st.Recent)-recentTurns:]
	}
}

// exhausted returns the outcome and reason when a budget or the deadline is
// used up.
func (st *AgentState) exhausted(now time.Time) (string, string) {
	p := st.Policy
	switch {
	case st.Decisions >= p.MaxSteps:
		return "budget", fmt.Sprintf("the step budget of %d is used up", p.MaxSteps)
	case st.Tokens >= p.MaxTokens:
		return "budget", fmt.Sprintf("the token budget of %d is used up (%d tokens)", p.MaxTokens, st.Tokens)
	case now.Sub(st.StartedAt) >= p.Deadline:
		return "deadline", fmt.Sprintf("the deadline of %s has passed", p.Deadline)
	}
	return "", ""
}

func (st *AgentState) budget(now time.Time) AgentBudget {
	b := AgentBudget{Steps: st.Decisions, MaxSteps: st.Policy.MaxSteps, Tokens: st.Tokens, MaxTokens: st.Policy.MaxTokens,
		Elapsed: now.Sub(st.StartedAt), Deadline: st.Policy.Deadline}
	for _, tool := range st.Policy.Tools {
		if n := st.CallsPerTool[tool]; n > 0 {
			b.Calls = append(b.Calls, ToolCount{Tool: tool, Calls: n})
		}
	}
	return b
}

// end finishes the run: it records the last turns in the store and returns
// the result with the reason it ended.
func (st *AgentState) end(ctx workflow.Context, d *decisions, outcome, reason string, fin FinishArgs) (AgentResult, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return AgentResult{}, err
	}
	if len(st.Pending) > 0 {
		var store *activities.Store
		if err := workflow.ExecuteActivity(withStore(ctx, "record the last turns"), store.AppendAgentTurns, st.RunKey, st.Pending).Get(ctx, nil); err != nil {
			return AgentResult{}, err
		}
	}
	d.step(ctx, outcome, "Ended: "+reason)
	cited := appendNew(nil, fin.Sources...)
	return AgentResult{Outcome: outcome, Reason: reason, Answer: fin.Answer, Cited: cited, Read: st.Read,
		Unread: slices.DeleteFunc(slices.Clone(cited), func(c string) bool { return slices.Contains(st.Read, c) }),
		Trail:  st.Trail, Events: st.Events, Budget: st.budget(workflow.Now(ctx)), Runs: st.Runs, ModelCalls: st.ModelCalls, Models: st.Models}, nil
}

// continueAsNew compacts the transcript (a model-written summary of all but
// the recent turns) and continues the run as new with its state.
func (st *AgentState) continueAsNew(ctx workflow.Context, d *decisions, in AgentInput, keep int) error {
	d.step(ctx, "compacting", "Summarising the transcript to continue as new")
	var agent *activities.Agent
	var res activities.CompactResult
	req := activities.CompactRequest{RunKey: st.RunKey, Model: st.Model.Model, NewTurns: st.Pending, Keep: keep}
	if err := workflow.ExecuteActivity(withModel(ctx, st.Model, "compact the transcript"), agent.Compact, req).Get(ctx, &res); err != nil {
		return err
	}
	st.Pending, st.Summary, st.CompactedAt, st.LastKeep = nil, res.Summary, st.Decisions, keep
	st.Tokens += res.Call.PromptTokens + res.Call.OutputTokens
	st.ModelCalls++
	usedModel(ctx, res.Call)
	// Messages that arrive while handlers finish are carried over too.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	in.State = st
	return workflow.NewContinueAsNewError(ctx, AgentName, in)
}

// checkArgs validates tool arguments against the tool's schema.
func checkArgs(argSchema, args json.RawMessage) error {
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	// Schema validation is pure computation; workflowcheck only sees the
	// reflection inside the validator.
	//workflowcheck:ignore
	if err := schema.Validate(argSchema, args); err != nil {
		return fmt.Errorf("the arguments JSON %w", err)
	}
	return nil
}

func decodeArgs(args json.RawMessage, v any) error {
	// Decoding JSON is deterministic; see decodeAnswer.
	//workflowcheck:ignore
	return json.Unmarshal(args, v)
}

func oneLineArgs(args json.RawMessage) string { return text.Shorten(string(args), 80) }

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if it != "" && !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

func errText(err error) string {
	if err == nil {
		return "the arguments do not decode"
	}
	return err.Error()
}
