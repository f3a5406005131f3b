# Tandem: `make run` starts everything on one machine and runs the demo;
# `make test` runs every check and test; `make stop` stops what run started.

BIN := $(CURDIR)/.tandem/bin
export TANDEM_TEMPORAL_CLI ?= $(BIN)/temporal

.PHONY: run stop test check lint-api lint-go unit tools build clean

run:
	@scripts/dev.sh run

stop:
	@scripts/dev.sh stop

tools:
	@scripts/dev.sh tools

build:
	go build -o $(BIN)/ ./worker ./starter

# check: formatting, vet and the Temporal determinism analyzer.
check: tools
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	@scripts/dev.sh workflowcheck

# lint-go: staticcheck on every package.
lint-go:
	@scripts/dev.sh staticcheck

# lint-api: the HTTP trigger's OpenAPI document, linted by Redocly (npx).
lint-api:
	npx -y @redocly/cli@2.77.0 lint api/openapi.yaml

# test: checks, then every test, end-to-end tests on real servers included:
# every package on SQLite and, at the same time, the store's tests and the
# business flows end to end on PostgreSQL (scripts/test.sh).
test: check
	@scripts/dev.sh ollama
	@scripts/dev.sh mcp
	@TANDEM_OLLAMA_BIN=$${TANDEM_OLLAMA_BIN:-$$(command -v ollama || echo $(BIN)/ollama)} scripts/test.sh

# unit: the fast tests only (no real servers).
unit:
	go test -count=1 -short ./...

clean: stop
	rm -rf .tandem
