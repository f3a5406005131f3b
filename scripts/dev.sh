#!/usr/bin/env bash
# Tandem's local runtime: builds the development servers it is missing, starts
# what is not already answering, and records the pids of what it started so
# that `stop` stops exactly those. Used by `make run`, `make stop`, `make tools`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${TANDEM_STATE_DIR:-$ROOT/.tandem}
BIN=$STATE/bin
PIDS=$STATE/pids
LOGS=$STATE/log
DATA=$STATE/data
mkdir -p "$BIN" "$PIDS" "$LOGS" "$DATA"

export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
export OLLAMA_HOST=${OLLAMA_HOST:-127.0.0.1:11434}
export TANDEM_DB=${TANDEM_DB:-$DATA/tandem.db}
export TANDEM_SEED_FILE=${TANDEM_SEED_FILE-$ROOT/testdata/seed.sql}
# Payloads are encrypted with a key made on first run; the worker serves the
# codec endpoint the Web UI decrypts them through.
export TANDEM_CODEC_KEY_FILE=${TANDEM_CODEC_KEY_FILE:-$STATE/codec.keys}
export TANDEM_CODEC_ADDR=${TANDEM_CODEC_ADDR:-127.0.0.1:8089}
# The codec endpoint decrypts only for holders of this token; the Web UI gets
# it as the endpoint URL's path.
export TANDEM_CODEC_TOKEN_FILE=${TANDEM_CODEC_TOKEN_FILE:-$STATE/codec.token}
# The worker's health checks and Prometheus metrics.
export TANDEM_HEALTH_ADDR=${TANDEM_HEALTH_ADDR-127.0.0.1:8091}
OLLAMA_VERSION=v0.6.5
STATICCHECK_VERSION=v0.8.2

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf 'make: %s\n' "$*" >&2; exit 1; }

# answers HOST:PORT — true when something accepts TCP connections there.
answers() {
  local hostport=${1#*://}
  hostport=${hostport%%/*}
  local host=${hostport%:*} port=${hostport##*:}
  [ "$host" = "$port" ] && port=11434
  timeout 1 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# wait_for NAME HOST:PORT SECONDS LOG
wait_for() {
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    answers "$2" && return 0
    sleep 0.2
  done
  fail "$1 did not start within $3 s; see $4"
}

build_tools() {
  if [ ! -x "$BIN/temporal" ]; then
    say "Building the Temporal CLI (pinned in tools/go.mod; about 6 minutes the first time)"
    (cd "$ROOT/tools" && GOBIN=$BIN go install github.com/temporalio/cli/cmd/temporal)
  fi
  if [ ! -x "$BIN/workflowcheck" ]; then
    (cd "$ROOT/tools" && GOBIN=$BIN go install go.temporal.io/sdk/contrib/tools/workflowcheck)
  fi
}

# staticcheck lints the Go code (make lint-go; CI runs it).
staticcheck() {
  if [ ! -x "$BIN/staticcheck" ]; then
    GOBIN=$BIN go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  fi
  echo "staticcheck ./..."
  (cd "$ROOT" && "$BIN/staticcheck" ./...) && echo "staticcheck: no findings"
}

# ollama_bin prints the Ollama command to use, building it when there is none.
ollama_bin() {
  if command -v ollama >/dev/null 2>&1; then
    command -v ollama
    return
  fi
  if [ ! -x "$BIN/ollama" ]; then
    say "Building Ollama $OLLAMA_VERSION (CPU; about 3 minutes the first time)" >&2
    GOBIN=$BIN go install "github.com/ollama/ollama@$OLLAMA_VERSION" >&2
  fi
  echo "$BIN/ollama"
}

# compose_plugin installs the Docker Compose plugin (pinned in
# tools/compose/go.mod) where the docker client has none.
compose_plugin() {
  if docker compose version >/dev/null 2>&1; then
    return
  fi
  say "Building the Docker Compose plugin (pinned in tools/compose/go.mod)"
  mkdir -p "$HOME/.docker/cli-plugins"
  (cd "$ROOT/tools/compose" && go build -o "$HOME/.docker/cli-plugins/docker-compose" github.com/docker/compose/v2/cmd)
}

start_temporal() {
  if answers "$TEMPORAL_ADDRESS"; then
    say "Temporal is already answering at $TEMPORAL_ADDRESS"
    return
  fi
  local host=${TEMPORAL_ADDRESS%:*} port=${TEMPORAL_ADDRESS##*:}
  say "Starting the Temporal dev server at $TEMPORAL_ADDRESS (Web UI http://localhost:8233)"
  nohup "$BIN/temporal" server start-dev \
    --ip "$host" --port "$port" --ui-port 8233 \
    --db-filename "$DATA/temporal.db" \
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
    --dynamic-config-value system.enableActivityEagerExecution=true \
    --dynamic-config-value history.transferProcessorMaxPollRPS=1000 \
    --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
    --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
    --ui-codec-endpoint "http://$TANDEM_CODEC_ADDR/${TANDEM_CODEC_TOKEN:-$(cat "$TANDEM_CODEC_TOKEN_FILE")}" \
    --log-level warn >"$LOGS/temporal.log" 2>&1 &
  echo $! >"$PIDS/temporal.pid"
  wait_for "The Temporal dev server" "$TEMPORAL_ADDRESS" 60 "$LOGS/temporal.log"
}

start_ollama() {
  if answers "$OLLAMA_HOST"; then
    say "Ollama is already answering at $OLLAMA_HOST"
    return
  fi
  local ollama
  ollama=$(ollama_bin)
  say "Starting Ollama ($ollama) at $OLLAMA_HOST"
  # As many requests at once as the worker sends (TANDEM_MODEL_PARALLEL).
  OLLAMA_NUM_PARALLEL=${OLLAMA_NUM_PARALLEL:-${TANDEM_MODEL_PARALLEL:-2}} nohup "$ollama" serve >"$LOGS/ollama.log" 2>&1 &
  echo $! >"$PIDS/ollama.pid"
  wait_for "Ollama" "$OLLAMA_HOST" 30 "$LOGS/ollama.log"
}

ensure_codec_key() {
  if [ -z "${TANDEM_CODEC_KEYS:-}" ] && [ ! -f "$TANDEM_CODEC_KEY_FILE" ]; then
    say "Making a payload encryption key in $TANDEM_CODEC_KEY_FILE"
    (umask 077 && printf '%s=%s\n' "$(date -u +%Y-%m)" "$(head -c 32 /dev/urandom | base64)" >"$TANDEM_CODEC_KEY_FILE")
  fi
  if [ -z "${TANDEM_CODEC_TOKEN:-}" ] && [ ! -f "$TANDEM_CODEC_TOKEN_FILE" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$TANDEM_CODEC_TOKEN_FILE")
  fi
}

build_binaries() {
  (cd "$ROOT" && go build -o "$BIN/" ./worker ./starter)
}

ensure_model() {
  say "Checking the model"
  "$BIN/starter" model
}

# observability_hint says where the worker's metrics and traces are.
observability_hint() {
  if [ -n "$TANDEM_HEALTH_ADDR" ]; then
    echo "    Metrics: http://$TANDEM_HEALTH_ADDR/metrics · health: http://$TANDEM_HEALTH_ADDR/readyz · usage: $BIN/starter usage"
  fi
  if [ -n "${OTEL_EXPORTER_OTLP_ENDPOINT:-}${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-}" ]; then
    echo "    Traces: sent over OTLP to ${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-$OTEL_EXPORTER_OTLP_ENDPOINT}"
  else
    echo "    Traces: off; set OTEL_EXPORTER_OTLP_ENDPOINT (for example http://localhost:4318, Jaeger's OTLP port) to send them"
  fi
}

start_worker() {
  stop_one worker
  say "Starting the worker (log: $LOGS/worker.log)"
  nohup "$BIN/worker" >"$LOGS/worker.log" 2>&1 &
  echo $! >"$PIDS/worker.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "Tandem worker started" "$LOGS/worker.log" 2>/dev/null && return 0
    if ! kill -0 "$(cat "$PIDS/worker.pid")" 2>/dev/null; then
      rm -f "$PIDS/worker.pid"
      fail "the worker stopped: $(grep -v '^\s*$' "$LOGS/worker.log" | tail -n 1)"
    fi
    sleep 0.1
  done
  fail "the worker did not start within 10 s; see $LOGS/worker.log"
}

demo() {
  local starter="$BIN/starter"
  cd "$ROOT"
  say "Routing the sample tickets in testdata/tickets"
  "$starter" route-ticket testdata/tickets/*.json
  decide_waiting ticket-routing support.agent
  say "Processing the sample invoices in testdata/invoices"
  "$starter" invoice testdata/invoices/*.txt
  decide_waiting invoice ap.clerk
  say "Requesting the sample leave in testdata/leave"
  "$starter" leave testdata/leave/*.json
  decide_waiting leave E-100
  say "Running compliance monitoring over the last 7 days"
  "$starter" compliance
  "$starter" schedule create --every 24h
  say "Asking the research agent a question"
  "$starter" agent --profile research "How long do customers have to return an item, and who approves large refunds?"
  say "Handing a lost-parcel complaint to the customer-service agent"
  "$starter" agent --profile customer-service "Camille Martin's lamp (order O-20931) never arrived. Resolve it with a personal reply." || true
  decide_agents support.lead
  say "Comparing one ticket through ticket routing and through the customer-service agent (sandboxed)"
  "$starter" compare ticket testdata/tickets/double-charge.json -n 2
}

# decide_agents PERSON approves, as PERSON, what waiting agents ask for, until
# none waits. Each approved tool has a budget of one call, so an agent asks
# at most once per tool.
decide_agents() {
  local id round waiting
  for round in $(seq 6); do
    sleep 1
    waiting=$("$BIN/starter" list --waiting --kind agent --ids)
    [ -n "$waiting" ] || return 0
    for id in $waiting; do
      "$BIN/starter" approve "$id" --by "$1" --wait
    done
  done
}

# decide_waiting KIND PERSON approves, as PERSON, every run of KIND waiting
# for a person.
decide_waiting() {
  local id
  sleep 1 # let the visibility store catch up with the runs' search attributes
  say "Deciding the $1 runs that wait for a person, as $2"
  for id in $("$BIN/starter" list --waiting --kind "$1" --ids); do
    "$BIN/starter" approve "$id" --by "$2" --wait
    echo
  done
}

# stop_one NAME stops the process whose pid `run` recorded for NAME.
stop_one() {
  local file=$PIDS/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$file"
}

# mcp_servers installs, from npm, the MCP servers and the MCP Inspector the
# tests run against (tools/mcp/package-lock.json pins them); a second run
# with the same lock file does nothing.
mcp_servers() {
  local dir=$ROOT/tools/mcp
  [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  command -v npm >/dev/null || fail "npm is needed for the MCP test servers; install Node.js and npm"
  say "Installing the MCP test servers from npm into tools/mcp"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
}

# workflowcheck runs Temporal's determinism analyzer on workflows/. It takes
# about 15 s (it analyses every dependency), so a pass is remembered by a
# hash of the Go files, go.mod, go.sum and the analyzer itself: with none of
# them changed, the same result stands.
workflowcheck() {
  local stamp=$STATE/workflowcheck.pass sum
  sum=$(cd "$ROOT" && git ls-files --cached --others --exclude-standard -z '*.go' go.mod go.sum |
    xargs -0 sha256sum | cat - "$BIN/workflowcheck" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    echo "workflowcheck ./workflows/...: no Go file changed since it last passed"
    return 0
  fi
  echo "$BIN/workflowcheck ./workflows/..."
  (cd "$ROOT" && "$BIN/workflowcheck" ./workflows/...)
  echo "$sum" >"$stamp"
}

case ${1:-} in
  tools) build_tools ;;
  workflowcheck) workflowcheck ;;
  staticcheck) staticcheck ;;
  mcp) mcp_servers ;;
  ollama) ollama_bin >/dev/null ;;
  compose) compose_plugin ;;
  run)
    build_tools
    build_binaries
    ensure_codec_key
    start_temporal
    start_ollama
    ensure_model
    start_worker
    demo
    say "Done. The servers and the worker keep running: Web UI http://localhost:8233 · stop them with make stop"
    observability_hint
    ;;
  stop)
    stop_one worker
    stop_one ollama
    stop_one temporal
    ;;
  *) echo "usage: scripts/dev.sh tools|workflowcheck|staticcheck|ollama|mcp|compose|run|stop" >&2; exit 2 ;;
esac
