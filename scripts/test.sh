#!/usr/bin/env bash
# make test's tests, in two passes at once: every package with the business
# store on SQLite; and on PostgreSQL, the store's and the activities' tests
# (every SQL statement) and the end-to-end business flows that write the
# store. The end-to-end tests share one Temporal and one Ollama server per
# pass, each test on task queues of its own, eight at a time.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# The end-to-end tests that run on PostgreSQL too: flows that write the
# business store through the workers, on scripted models (the real random
# model's tests and several hosts sharing one PostgreSQL store run in the
# SQLite pass).
POSTGRES_E2E=${TANDEM_POSTGRES_E2E:-'^Test(Invoice(GoesToAPerson|Rules)|SandboxedInvoice|ACampaign|AnApprovedMCPWrite|WhatOneRunRemembers|UsageAddsUp|APromptInjectionNever|HTTPTriggerStart)'}

go_test() { go test -count=1 -timeout 30m -parallel 8 "$@"; }

postgres_log=$(mktemp)
trap 'rm -f "$postgres_log"' EXIT
(
  export TANDEM_TEST_STORE=postgres
  go_test ./internal/store/... ./activities && go_test -run "$POSTGRES_E2E" ./e2e
) >"$postgres_log" 2>&1 &
postgres=$!

echo "With the business store on SQLite:"
go_test ./...
sqlite_status=$?

wait "$postgres"
postgres_status=$?
echo "On PostgreSQL: the store's and the activities' tests, and the business flows end to end:"
cat "$postgres_log"

[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
