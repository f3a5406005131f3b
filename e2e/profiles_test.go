package e2e

import (
	"time"

	"github.com/tandemhq/tandem/workflows"
)

// longRunProfile is an agent profile with the budgets of the long scripted
// runs and benchmarks. A run can only narrow its profile's policy, so these
// runs need a profile of their own; the e2e workers run in this process and
// know it.
const longRunProfile = "e2e-long-run"

func init() {
	workflows.Profiles = append(workflows.Profiles, workflows.AgentProfile{
		Name:         longRunProfile,
		Description:  "long scripted runs of the end-to-end tests and benchmarks",
		Instructions: "Do as the script says.",
		Policy: workflows.AgentPolicy{
			Tools:    []string{"calculate", "today", "send_message"},
			MaxSteps: 1000, MaxTokens: 1 << 30, Deadline: 24 * time.Hour,
		},
	})
}
