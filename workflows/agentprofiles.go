package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// AgentPolicy is the data policy an agent runs under.
type AgentPolicy struct {
	Tools             []string       `json:"tools"`                       // the allowlist, besides finish
	NeedApproval      []string       `json:"needApproval,omitempty"`      // tools a person must allow each time
	MaxSteps          int            `json:"maxSteps"`                    // model decisions
	MaxTokens         int            `json:"maxTokens"`                   // prompt plus output tokens
	MaxCallsPerTool   map[string]int `json:"maxCallsPerTool,omitempty"`   // per tool; absent means no limit
	Deadline          time.Duration  `json:"deadline"`                    // wall clock from the start
	Approvers         []string       `json:"approvers,omitempty"`         // who allows tool calls
	EscalateTo        []string       `json:"escalateTo,omitempty"`        // who, when the approvers do not answer
	ApprovalTimeout   time.Duration  `json:"approvalTimeout,omitempty"`   // how long approvers have
	OnApprovalTimeout string         `json:"onApprovalTimeout,omitempty"` // deny, escalate or wait
	Mode              string         `json:"mode,omitempty"`              // json (schema format) or tools (native tool calling)
	ContextSize       int            `json:"contextSize,omitempty"`       // the model's num_ctx
	MaxInvalid        int            `json:"maxInvalid,omitempty"`        // invalid calls in a row before the run ends
	KeepTurns         int            `json:"keepTurns,omitempty"`         // recent turns kept word for word when compacting
}

// AgentProfile is a named agent: what it is for, and its policy, as its
// YAML file (see profilefiles.go) says.
type AgentProfile struct {
	Name         string      `json:"name"`
	Description  string      `json:"description"`
	Instructions string      `json:"instructions"`
	Goal         string      `json:"goal,omitempty"` // the goal template, over a run's vars
	Source       string      `json:"source,omitempty"`
	Policy       AgentPolicy `json:"policy"`
}

// Profiles are the agent profiles this process knows: the built-in ones,
// and in a worker those of TANDEM_PROFILES_DIR (see LoadProfiles).
var Profiles = mustLoadBuiltins()

// ProfileNamed finds a profile this process knows.
func ProfileNamed(name string) (AgentProfile, error) {
	return profileIn(Profiles, name)
}

func profileIn(profiles []AgentProfile, name string) (AgentProfile, error) {
	var names []string
	for _, p := range profiles {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return AgentProfile{}, fmt.Errorf("agent profile %q is not one of %s", name, strings.Join(names, ", "))
}

func (p AgentPolicy) withDefaults() AgentPolicy {
	if p.MaxSteps <= 0 {
		p.MaxSteps = 10
	}
	if p.MaxTokens <= 0 {
		p.MaxTokens = 50000
	}
	if p.Deadline <= 0 {
		p.Deadline = time.Hour
	}
	if len(p.Approvers) == 0 {
		p.Approvers = []string{"supervisor"}
	}
	if p.ApprovalTimeout <= 0 {
		p.ApprovalTimeout = time.Hour
	}
	if p.OnApprovalTimeout == "" {
		p.OnApprovalTimeout = "deny"
	}
	if p.Mode == "" {
		p.Mode = "json"
	}
	if p.ContextSize <= 0 {
		p.ContextSize = 4096
	}
	if p.MaxInvalid <= 0 {
		p.MaxInvalid = 3
	}
	if p.KeepTurns <= 0 {
		p.KeepTurns = 4
	}
	return p
}

// narrowedBy applies what a run's caller asked for to the profile's policy.
// A caller may narrow an agent's powers, never widen them: a subset of the
// profile's tools, more tools that need approval, lower budgets, a shorter
// approval timeout. The approvers and whom to escalate to come from the
// profile and the worker's data policy alone. Operational settings that grant
// no power (mode, context size, invalid calls in a row, turns kept when
// compacting) are the caller's to choose. Anything else is refused with a
// sentence.
func (p AgentPolicy) narrowedBy(req AgentPolicy) (AgentPolicy, error) {
	widen := func(what string, asked, allowed any) error {
		return fmt.Errorf("the run asks for %s %v, over the profile's %v; a run may narrow its agent's powers, never widen them", what, asked, allowed)
	}
	for _, t := range append(slices.Clone(req.Tools), req.NeedApproval...) {
		if _, ok := toolNamed(t); !ok && !isMCPTool(t) {
			return p, fmt.Errorf("the policy names tool %q, which is not in the catalogue", t)
		}
	}
	for _, t := range req.Tools {
		if !p.allows(t) {
			return p, fmt.Errorf("the run asks for tool %s, which the profile does not allow; a run may narrow its agent's tools, never add to them", t)
		}
	}
	if len(req.Approvers) > 0 && !sameSet(req.Approvers, p.Approvers) {
		return p, fmt.Errorf("the run names approvers %s; approvers come from the agent profile and the worker's data policy, never from a run", strings.Join(req.Approvers, ", "))
	}
	if len(req.EscalateTo) > 0 && !sameSet(req.EscalateTo, p.EscalateTo) {
		return p, fmt.Errorf("the run names %s to escalate to; escalation comes from the agent profile and the worker's data policy, never from a run", strings.Join(req.EscalateTo, ", "))
	}
	for _, f := range []struct {
		name  string
		value int
	}{{"maxSteps", req.MaxSteps}, {"maxTokens", req.MaxTokens}, {"contextSize", req.ContextSize},
		{"maxInvalid", req.MaxInvalid}, {"keepTurns", req.KeepTurns}} {
		if f.value < 0 {
			return p, fmt.Errorf("%s is %d; give a positive number, or leave it out for the profile's", f.name, f.value)
		}
	}
	if req.Deadline < 0 || req.ApprovalTimeout < 0 {
		return p, errors.New("the deadline and the approval timeout must be positive durations, or left out for the profile's")
	}
	switch {
	case req.MaxSteps > p.MaxSteps:
		return p, widen("maxSteps", req.MaxSteps, p.MaxSteps)
	case req.MaxTokens > p.MaxTokens:
		return p, widen("maxTokens", req.MaxTokens, p.MaxTokens)
	case req.Deadline > p.Deadline:
		return p, widen("a deadline of", req.Deadline, p.Deadline)
	case req.ApprovalTimeout > p.ApprovalTimeout:
		return p, widen("an approval timeout of", req.ApprovalTimeout, p.ApprovalTimeout)
	}
	for _, tool := range sortedKeys(req.MaxCallsPerTool) {
		n := req.MaxCallsPerTool[tool]
		limit, limited := p.MaxCallsPerTool[tool]
		if n < 0 {
			return p, fmt.Errorf("maxCallsPerTool[%s] is %d; give a positive number", tool, n)
		}
		if limited && n > limit {
			return p, widen("maxCallsPerTool["+tool+"]", n, limit)
		}
	}

	out := p
	if len(req.Tools) > 0 {
		out.Tools = slices.Clone(req.Tools)
	}
	out.NeedApproval = slices.Clone(p.NeedApproval)
	for _, t := range req.NeedApproval {
		if !slices.Contains(out.NeedApproval, t) {
			out.NeedApproval = append(out.NeedApproval, t)
		}
	}
	out.MaxSteps = cmp.Or(req.MaxSteps, p.MaxSteps)
	out.MaxTokens = cmp.Or(req.MaxTokens, p.MaxTokens)
	out.Deadline = cmp.Or(req.Deadline, p.Deadline)
	out.ApprovalTimeout = cmp.Or(req.ApprovalTimeout, p.ApprovalTimeout)
	out.MaxCallsPerTool = map[string]int{}
	for _, tool := range sortedKeys(p.MaxCallsPerTool) {
		out.MaxCallsPerTool[tool] = p.MaxCallsPerTool[tool]
	}
	for _, tool := range sortedKeys(req.MaxCallsPerTool) {
		out.MaxCallsPerTool[tool] = req.MaxCallsPerTool[tool]
	}
	out.OnApprovalTimeout = cmp.Or(req.OnApprovalTimeout, p.OnApprovalTimeout)
	out.Mode = cmp.Or(req.Mode, p.Mode)
	out.ContextSize = cmp.Or(req.ContextSize, p.ContextSize)
	out.MaxInvalid = cmp.Or(req.MaxInvalid, p.MaxInvalid)
	out.KeepTurns = cmp.Or(req.KeepTurns, p.KeepTurns)
	return out, nil
}

// sortedKeys are a map's keys in order, so that workflow code that walks a
// map does so the same way on every replay.
func sortedKeys(m map[string]int) []string {
	// The keys are sorted before anyone sees them.
	//workflowcheck:ignore
	return slices.Sorted(maps.Keys(m))
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// validate reports the first thing wrong with a policy, as one sentence.
func (p AgentPolicy) validate() error {
	for _, name := range append(append([]string{}, p.Tools...), p.NeedApproval...) {
		if _, ok := toolNamed(name); !ok && !isMCPTool(name) {
			return fmt.Errorf("the policy names tool %q, which is not in the catalogue", name)
		}
	}
	switch p.OnApprovalTimeout {
	case "deny", "escalate", "wait":
	default:
		return fmt.Errorf("onApprovalTimeout %q is not one of deny, escalate, wait", p.OnApprovalTimeout)
	}
	if p.Mode != "json" && p.Mode != "tools" {
		return fmt.Errorf("mode %q is not one of json, tools", p.Mode)
	}
	return nil
}

// approvalPolicy turns the agent policy's approval rules into a decision policy.
func (p AgentPolicy) approvalPolicy() DecisionPolicy {
	dp := DecisionPolicy{Approvers: p.Approvers, OnDeadline: "reject"}
	switch p.OnApprovalTimeout {
	case "deny":
		dp.Deadline = p.ApprovalTimeout
	case "escalate":
		dp.EscalateTo, dp.EscalateAfter = p.EscalateTo, p.ApprovalTimeout
		dp.Deadline = 2 * p.ApprovalTimeout
		if len(dp.EscalateTo) == 0 {
			dp.EscalateTo = p.Approvers
		}
	}
	return dp
}
