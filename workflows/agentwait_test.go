package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/internal/policy"
)

// waitingAgent runs a profile with the waiting tools on a scripted model,
// with time skipping; the returned slices fill as the run goes.
func waitingAgent(t *testing.T, rules *policy.Policy, script ...activities.DecideResult) (*testsuite.TestWorkflowEnvironment, *[]activities.DecideRequest) {
	return waitingAgentWith(t, testSettings(rules), script...)
}

func waitingAgentWith(t *testing.T, settings *activities.Settings, script ...activities.DecideResult) (*testsuite.TestWorkflowEnvironment, *[]activities.DecideRequest) {
	profile := AgentProfile{Name: "patient", Instructions: "Wait well.", Policy: AgentPolicy{Tools: []string{"wait", "wait_for_event", "today"},
		MaxSteps: 10, Deadline: 60 * 24 * time.Hour}}
	env, agent, _ := agentTestEnv(settings, profile)
	var asked []activities.DecideRequest
	env.OnActivity(agent.Decide, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.DecideRequest) (activities.DecideResult, error) {
		asked = append(asked, req)
		if len(script) == 0 {
			return step("finish", `{"answer":"done","sources":[]}`), nil
		}
		next := script[0]
		script = script[1:]
		return next, nil
	})
	return env, &asked
}

func runPatient(t *testing.T, env *testsuite.TestWorkflowEnvironment) AgentResult {
	env.ExecuteWorkflow(Agent, AgentInput{Goal: "wait for the results", Profile: "patient", Model: ModelSettings{Model: "m", TaskQueue: "q"}})
	require.NoError(t, env.GetWorkflowError())
	var res AgentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

func sendEventAfter(env *testsuite.TestWorkflowEnvironment, delay time.Duration, e AgentEvent) *error {
	refused := new(error)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(EventUpdate, "", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { *refused = err },
			OnComplete: func(_ any, err error) {
				if err != nil {
					*refused = err
				}
			}}, e)
	}, delay)
	return refused
}

func lastObservation(req activities.DecideRequest, kind string) string {
	for _, t := range req.NewTurns {
		if t.Kind == kind {
			return t.Observation
		}
	}
	return ""
}

func TestAWaitSleepsDurablyAndAnEventWakesItEarly(t *testing.T) {
	env, asked := waitingAgent(t, nil,
		step("wait", `{"duration":"3d","reason":"the first results"}`),
		step("wait", `{"duration":"14d","reason":"more results"}`))
	var sleeping Status
	env.RegisterDelayedCallback(func() {
		val, err := env.QueryWorkflow(StatusQuery)
		require.NoError(t, err)
		require.NoError(t, val.Get(&sleeping))
	}, time.Hour)
	refused := sendEventAfter(env, 4*24*time.Hour, AgentEvent{Name: "survey-results", From: "mailer", Data: `{"opens":120}`})
	start := env.Now()
	res := runPatient(t, env)

	require.NoError(t, *refused)
	assert.Equal(t, "sleeping", sleeping.Step)
	require.NotNil(t, sleeping.SleepingUntil)
	assert.Equal(t, start.Add(3*24*time.Hour).UTC(), sleeping.SleepingUntil.UTC(), "status says until when")
	require.Len(t, *asked, 3)
	assert.Equal(t, "slept 72h0m0s", lastObservation((*asked)[1], "tool"), "the first wait ran its course")
	assert.Equal(t, "woken after 24h0m0s by survey-results from mailer (see the step after this one)", lastObservation((*asked)[2], "tool"),
		"the event ended the second wait early")
	assert.Equal(t, `{"opens":120}`, lastObservation((*asked)[2], "event"), "and reaches the model")
	steps := map[int]bool{}
	for _, turn := range (*asked)[2].NewTurns {
		assert.False(t, steps[turn.Step], "an event that arrives while a tool runs takes a step of its own")
		steps[turn.Step] = true
	}
	assert.Equal(t, []string{"wait(ok)", "wait(ok)"}, trailNames(res))
}

func TestWaitForEventWaitsForItsEventOnly(t *testing.T) {
	rules := policy.Policy{Version: 1, Agent: policy.AgentRules{MaxWait: policy.Duration(48 * time.Hour)}}
	env, asked := waitingAgent(t, &rules,
		step("wait_for_event", `{"event":"survey-results","timeout":"7d"}`),
		step("wait_for_event", `{"event":"survey-results","timeout":"7d"}`))
	sendEventAfter(env, time.Hour, AgentEvent{Name: "unsubscribe", From: "mailer", Data: "C-100"})
	sendEventAfter(env, 2*time.Hour, AgentEvent{Name: "survey-results", From: "mailer", Data: `{"clicks":9}`})
	bad := sendEventAfter(env, 3*time.Hour, AgentEvent{Name: "two words", From: "mailer"})
	runPatient(t, env)

	require.Len(t, *asked, 3)
	assert.Equal(t, `event survey-results from mailer arrived after 2h0m0s: {"clicks":9}`, lastObservation((*asked)[1], "tool"),
		"another event does not end it")
	assert.Equal(t, "no survey-results event came within 48h0m0s (168h0m0s asked; the data policy's longest wait is 48h0m0s)",
		lastObservation((*asked)[2], "tool"), "the policy shortens a long wait")
	require.Error(t, *bad)
	assert.Equal(t, "name the event in one word of at most 60 characters, such as campaign-results", (*bad).Error())
}

func trailNames(res AgentResult) []string {
	var out []string
	for _, e := range res.Trail {
		out = append(out, e.Tool+"("+e.Outcome+")")
	}
	return out
}

// TestAPolicyChangeReachesASleepingAgentAtItsNextStep: while an agent
// sleeps, its worker comes back with a data policy that denies a tool; at
// its next step the run records the new policy and its hash, and the model
// is no longer offered the tool.
func TestAPolicyChangeReachesASleepingAgentAtItsNextStep(t *testing.T) {
	settings := testSettings(nil)
	env, asked := waitingAgentWith(t, settings, step("wait", `{"duration":"2d","reason":"results"}`), step("today", `{}`))
	strict, err := policy.Parse("strict", []byte("version: 1\nagent:\n  deny: [today]\n"), ToolNames())
	require.NoError(t, err)
	worker := settings.Policy.Hash
	env.SetWorkerOptions(worker2Options(func() string { return worker }))
	env.RegisterDelayedCallback(func() {
		settings.Policy = policy.Snapshot{Hash: strict.Hash(), Source: "strict", Policy: strict}
		worker = strict.Hash()
	}, 24*time.Hour)
	res := runPatient(t, env)

	require.Len(t, *asked, 3)
	assert.Contains(t, (*asked)[0].Allowed, "today", "before the change")
	assert.NotContains(t, (*asked)[1].Allowed, "today", "after it, at the next step")
	var changed *PolicyEvent
	for i, e := range res.Events {
		if e.Kind == "policy changed" {
			changed = &res.Events[i]
		}
	}
	require.NotNil(t, changed)
	assert.Equal(t, "the worker's data policy changed; from this step the run follows "+strict.Hash(), changed.Reason)
	assert.Equal(t, "denied", res.Trail[1].Outcome, "a call of the denied tool is refused")
}

func worker2Options(hash func() string) worker.Options {
	return worker.Options{Interceptors: []interceptor.WorkerInterceptor{&WorkerPolicy{Hash: hash}}}
}
