package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ModelScore is how one model did in a run: the agent steps it was asked
// to decide, and how many of its answers were valid decisions.
type ModelScore struct {
	Model string `json:"model"`
	Asked int    `json:"asked"`
	Valid int    `json:"valid"`
}

// score counts one step's answer for the model that gave it, in the
// result and in the run's usage.
func (st *AgentState) score(ctx workflow.Context, model string, valid bool) {
	usedStep(ctx, model, valid)
	i := 0
	for i < len(st.Models) && st.Models[i].Model != model {
		i++
	}
	if i == len(st.Models) {
		st.Models = append(st.Models, ModelScore{Model: model})
	}
	st.Models[i].Asked++
	if valid {
		st.Models[i].Valid++
	}
}

// fallsBack reports whether a failed decision moves the run to the data
// policy's next fallback model: an error of a class the policy names, and a
// model left to move to. It moves the run, and records why.
func (st *AgentState) fallsBack(ctx workflow.Context, err error) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !runPolicy(ctx).Models.FallsBackOn(appErr.Type()) {
		return false
	}
	st.score(ctx, st.Model.Model, false)
	return st.fallBack(ctx, appErr.Message())
}

// fallBack moves the run to the next fallback model, if there is one, and
// records the move and why as a policy event.
func (st *AgentState) fallBack(ctx workflow.Context, why string) bool {
	models := runPolicy(ctx).Models.Fallback
	if st.Fallbacks >= len(models) {
		return false
	}
	from := st.Model.Model
	st.Model.Model = models[st.Fallbacks]
	st.Fallbacks++
	st.Invalid = 0
	st.Events = append(st.Events, PolicyEvent{Step: st.Turn, Tool: "model", Kind: "fallback",
		Reason: fmt.Sprintf("%s: %s; the next steps go to %s", from, why, st.Model.Model)})
	return true
}
