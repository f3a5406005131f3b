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
