package workflows

import (
	"time"

	"go.temporal.io/sdk/testsuite"
)

// decideAfter sends a decision through the decide Update once delay has
// passed on the workflow clock. The returned pointer holds the validator's
// refusal, if any, once the run has ended.
func decideAfter(env *testsuite.TestWorkflowEnvironment, delay time.Duration, d Decision) *error {
	refused := new(error)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(DecisionUpdate, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { *refused = err },
			OnComplete: func(any, error) {},
		}, d)
	}, delay)
	return refused
}
