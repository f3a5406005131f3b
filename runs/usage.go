package runs

import "time"

// UsageMemo is the memo field in which every run keeps its Usage.
const UsageMemo = "tandemUsage"

// Usage is what one run (one execution: an agent that continues as new has
// one per execution) used: model calls per model, and people's time.
type Usage struct {
	Models    map[string]ModelUsage `json:"models,omitempty"`
	Decisions int                   `json:"decisions,omitempty"` // decisions people took
	Waited    time.Duration         `json:"waited,omitempty"`    // time the run waited for them
	Profile   string                `json:"profile,omitempty"`   // an agent run's profile
}

// ModelUsage is what the calls to one model used.
type ModelUsage struct {
	Calls     int           `json:"calls"`
	TokensIn  int           `json:"tokensIn"`
	TokensOut int           `json:"tokensOut"`
	Time      time.Duration `json:"time"` // the model's own time, load included
	// Steps are the agent steps the model was asked to decide, and Valid
	// how many of its answers were valid decisions.
	Steps int `json:"steps,omitempty"`
	Valid int `json:"valid,omitempty"`
}

// AddStep counts one agent step a model decided, validly or not.
func (u *Usage) AddStep(model string, valid bool) {
	if u.Models == nil {
		u.Models = map[string]ModelUsage{}
	}
	m := u.Models[model]
	m.Steps++
	if valid {
		m.Valid++
	}
	u.Models[model] = m
}

// AddCall counts one model call.
func (u *Usage) AddCall(c ModelCall) {
	if u.Models == nil {
		u.Models = map[string]ModelUsage{}
	}
	m := u.Models[c.Model]
	m.Calls++
	m.TokensIn += c.PromptTokens
	m.TokensOut += c.OutputTokens
	m.Time += c.TotalDuration
	u.Models[c.Model] = m
}
