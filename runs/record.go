package runs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/text"
)

// ModelCall records what one model call used, for audit and budgets.
type ModelCall struct {
	Purpose        string        `json:"purpose"`
	Model          string        `json:"model"`
	Digest         string        `json:"digest"`
	PromptTokens   int           `json:"promptTokens"`
	OutputTokens   int           `json:"outputTokens"`
	Repairs        int           `json:"repairs"`
	Redacted       int           `json:"redacted,omitempty"` // personal data replaced by placeholders in the prompt
	LoadDuration   time.Duration `json:"loadDuration"`
	PromptDuration time.Duration `json:"promptDuration"`
	EvalDuration   time.Duration `json:"evalDuration"`
	TotalDuration  time.Duration `json:"totalDuration"`
}

// Turn is one entry of an agent's transcript.
type Turn struct {
	Step        int             `json:"step"`
	Kind        string          `json:"kind"` // tool, message, invalid, denied, rejected
	Thought     string          `json:"thought,omitempty"`
	Tool        string          `json:"tool,omitempty"`
	Args        json.RawMessage `json:"args,omitempty"`
	Observation string          `json:"observation"`
	From        string          `json:"from,omitempty"` // who wrote a message
}

// RenderTurn is a turn in one line, as the model and people read it.
func RenderTurn(t Turn) string {
	switch t.Kind {
	case "message":
		return fmt.Sprintf("Step %d: message from %s: %s", t.Step, t.From, t.Observation)
	case "event":
		return fmt.Sprintf("Step %d: event %s from %s: %s", t.Step, t.Tool, t.From, t.Observation)
	case "invalid":
		return fmt.Sprintf("Step %d: your call of %s was invalid: %s", t.Step, t.Tool, t.Observation)
	case "denied", "rejected":
		return fmt.Sprintf("Step %d: %s %s was refused: %s", t.Step, t.Tool, text.Shorten(string(t.Args), 300), t.Observation)
	}
	return fmt.Sprintf("Step %d: %s %s → %s", t.Step, t.Tool, text.Shorten(string(t.Args), 300), t.Observation)
}
