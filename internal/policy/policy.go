// Package policy is Tandem's data policy: a YAML file, checked when the
// worker starts, that says where inference may happen, what is redacted
// before text reaches the model, which tools agents may use and which need a
// person, how long model outputs are kept, and whether runs are sandboxed.
// Every run records a snapshot of it, with its hash, at its start.
package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/redact"
)

// Default is the policy Tandem runs under when TANDEM_POLICY_FILE is unset.
//
//go:embed default.yaml
var Default []byte

// Policy is a data policy.
type Policy struct {
	Version   int        `yaml:"version" json:"version"`
	Inference Inference  `yaml:"inference" json:"inference"`
	Redaction Redaction  `yaml:"redaction" json:"redaction"`
	Agent     AgentRules `yaml:"agent" json:"agent"`
	Models    Models     `yaml:"models" json:"models"`
	Retention Retention  `yaml:"retention" json:"retention"`
	Sandbox   Sandbox    `yaml:"sandbox" json:"sandbox"`
	Telemetry Telemetry  `yaml:"telemetry" json:"telemetry"`
	MCP       MCP        `yaml:"mcp" json:"mcp"`
}

// Telemetry says what traces may hold.
type Telemetry struct {
	// SpanContent puts the text of prompts and answers into model-call
	// spans, as the model saw and wrote it: after redaction. Off, spans
	// hold no text of a prompt or an answer.
	SpanContent bool `yaml:"spanContent" json:"spanContent"`
}

// Models says how long a model call may keep being retried.
type Models struct {
	// RetryFor bounds a model call, its retries and its wait in the queue
	// included; an Ollama outage shorter than this delays runs, and does
	// not fail them. 0 means DefaultModelRetryFor.
	RetryFor Duration `yaml:"retryFor" json:"retryFor"`
	// Fallback are models an agent step moves to, in order, when its model
	// fails it: an error of a class in FallbackOn, or FallbackAfter
	// invalid tool calls in a row.
	Fallback      []string `yaml:"fallback" json:"fallback,omitempty"`
	FallbackOn    []string `yaml:"fallbackOn" json:"fallbackOn,omitempty"`
	FallbackAfter int      `yaml:"fallbackAfter" json:"fallbackAfter,omitempty"`
}

// FallbackClasses are the model error classes fallbackOn may name.
var FallbackClasses = []string{"ModelInvalidAnswer", "ModelNotFound", "ModelContextTooLong", "ModelTimeout", "ModelUnreachable", "ModelServerError"}

// FallsBackOn reports whether an error of class moves a step to the next
// model: the classes the policy names, or by default an answer that never
// validated and a model the server does not have.
func (m Models) FallsBackOn(class string) bool {
	if len(m.FallbackOn) == 0 {
		return class == "ModelInvalidAnswer" || class == "ModelNotFound"
	}
	return slices.Contains(m.FallbackOn, class)
}

// InvalidBeforeFallback is how many invalid tool calls in a row move an
// agent to the next model.
func (m Models) InvalidBeforeFallback() int {
	if m.FallbackAfter <= 0 {
		return 2
	}
	return m.FallbackAfter
}

// DefaultModelRetryFor is how long a model call is retried when the policy
// does not say.
const DefaultModelRetryFor = 30 * time.Minute

// ModelRetryFor is the policy's bound on a model call and its retries.
func (p Policy) ModelRetryFor() time.Duration {
	if p.Models.RetryFor <= 0 {
		return DefaultModelRetryFor
	}
	return time.Duration(p.Models.RetryFor)
}

// Inference says where model calls may go.
type Inference struct {
	// Endpoints are model servers allowed besides loopback and private
	// addresses, by host or host:port.
	Endpoints []string `yaml:"endpoints" json:"endpoints"`
}

// Redaction says what is replaced by placeholders before the model sees it.
type Redaction struct {
	Detectors      []string        `yaml:"detectors" json:"detectors"`
	Custom         []CustomPattern `yaml:"custom" json:"custom"`
	RestoreOutputs bool            `yaml:"restoreOutputs" json:"restoreOutputs"`
}

// CustomPattern is an organisation's own kind of personal data.
type CustomPattern struct {
	Name    string `yaml:"name" json:"name"`
	Pattern string `yaml:"pattern" json:"pattern"`
}

// AgentRules apply to every agent on top of its profile.
type AgentRules struct {
	Deny            []string `yaml:"deny" json:"deny"`
	RequireApproval []string `yaml:"requireApproval" json:"requireApproval"`
	MaxSteps        int      `yaml:"maxSteps" json:"maxSteps"`
	MaxTokens       int      `yaml:"maxTokens" json:"maxTokens"`
	// MaxWait bounds one wait or wait_for_event: a longer one is shortened
	// to it. 0 means DefaultMaxWait.
	MaxWait Duration `yaml:"maxWait" json:"maxWait,omitempty"`
	// Delegation bounds agents that hand sub-goals to other agents.
	Delegation Delegation `yaml:"delegation" json:"delegation,omitzero"`
}

// Delegation bounds the delegate tool: how deep agents may nest, and how
// many sub-agents one run may start. 0 means the defaults.
type Delegation struct {
	MaxDepth  int `yaml:"maxDepth" json:"maxDepth,omitempty"`
	MaxFanOut int `yaml:"maxFanOut" json:"maxFanOut,omitempty"`
}

// Defaults of delegation.
const (
	DefaultDelegationDepth  = 2
	DefaultDelegationFanOut = 4
)

// Depth is how deep agents may nest: 1 lets a run start sub-agents that
// start none.
func (d Delegation) Depth() int {
	if d.MaxDepth <= 0 {
		return DefaultDelegationDepth
	}
	return d.MaxDepth
}

// FanOut is how many sub-agents one run may start.
func (d Delegation) FanOut() int {
	if d.MaxFanOut <= 0 {
		return DefaultDelegationFanOut
	}
	return d.MaxFanOut
}

// DefaultMaxWait is the longest an agent sleeps at once when the policy
// does not say.
const DefaultMaxWait = 30 * 24 * time.Hour

// LongestWait is the policy's bound on one wait.
func (r AgentRules) LongestWait() time.Duration {
	if r.MaxWait <= 0 {
		return DefaultMaxWait
	}
	return time.Duration(r.MaxWait)
}

// Retention says how long model outputs stay in the business store.
type Retention struct {
	ModelOutputs Duration `yaml:"modelOutputs" json:"modelOutputs"`
	// Memory is how long facts agents remember stay; 0 keeps them.
	Memory Duration `yaml:"memory" json:"memory,omitempty"`
}

// Sandbox sets the sandbox mode of runs that do not ask for it.
type Sandbox struct {
	Default bool `yaml:"default" json:"default"`
}

// Duration is a time.Duration written like 36h or 90d.
type Duration time.Duration

// ParseDuration reads a Go duration or a whole number of days such as 90d.
func ParseDuration(s string) (Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration; write it like 90d or 36h", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration; write it like 90d or 36h", s)
	}
	return Duration(d), nil
}

// Snapshot is the policy a run recorded at its start, and its hash.
type Snapshot struct {
	Hash   string `json:"hash"`
	Source string `json:"source"` // the file it came from, or "built-in default"
	Policy Policy `json:"policy"`
}

// Hash identifies the rules: the SHA-256 of the policy's canonical JSON, so
// comments and layout do not change it.
func (p Policy) Hash() string {
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Redactor returns the detectors the policy turns on, built-ins first.
func (p Policy) Redactor() (*redact.Redactor, error) {
	var ds []redact.Detector
	for _, name := range redact.Builtins {
		if !slices.Contains(p.Redaction.Detectors, name) {
			continue
		}
		d, err := redact.Builtin(name)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	for _, c := range p.Redaction.Custom {
		d, err := redact.Custom(c.Name, c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("custom pattern %s: %w", c.Name, err)
		}
		ds = append(ds, d)
	}
	return redact.New(ds...), nil
}

// AllowsEndpoint reports whether the policy lists host (or host:port).
func (p Policy) AllowsEndpoint(host, hostPort string) bool {
	return slices.ContainsFunc(p.Inference.Endpoints, func(e string) bool {
		return strings.EqualFold(e, host) || strings.EqualFold(e, hostPort)
	})
}

// builtIn names the built-in default policy as a source.
const builtIn = "built-in default"

// Load reads and checks the policy file at path, or the built-in default
// when path is empty. knownTools are the agent tools rules may name.
func Load(path string, knownTools []string) (Snapshot, error) {
	source, data := builtIn, Default
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Snapshot{}, fmt.Errorf("cannot read the data policy: %w; set TANDEM_POLICY_FILE to a readable YAML file, or unset it for the default", err)
		}
		source, data = path, b
	}
	p, err := Parse(source, data, knownTools)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Hash: p.Hash(), Source: source, Policy: p}, nil
}
