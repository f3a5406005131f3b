package e2e

// longRunProfile is the agent profile of the long scripted runs and
// benchmarks, in testdata/profiles, which every e2e worker loads.
const longRunProfile = "e2e-long-run"
