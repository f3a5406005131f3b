# Tandem: `make run` starts everything on one machine and runs the demo;
# `make test` runs every check and test; `make stop` stops what run started.

BIN := $(CURDIR)/.tandem/bin
export TANDEM_TEMPORAL_CLI ?= $(BIN)/temporal

.PHONY: run stop test check lint-api unit tools build clean

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
	$(BIN)/workflowcheck ./workflows/...

# lint-api: the HTTP trigger's OpenAPI document, linted by Redocly (npx).
lint-api:
	npx -y @redocly/cli@2.77.0 lint api/openapi.yaml

# test: checks, then every test, end-to-end tests on real servers included.
# The end-to-end tests share one Temporal and one Ollama server, each on
# task queues of its own, eight at a time.
test: check
	@scripts/dev.sh ollama
	@scripts/dev.sh mcp
	TANDEM_OLLAMA_BIN=$${TANDEM_OLLAMA_BIN:-$$(command -v ollama || echo $(BIN)/ollama)} \
		go test -count=1 -timeout 30m -parallel 8 ./...
	@echo "The business store's tests and the end-to-end suite again, on PostgreSQL:"
	TANDEM_OLLAMA_BIN=$${TANDEM_OLLAMA_BIN:-$$(command -v ollama || echo $(BIN)/ollama)} TANDEM_TEST_STORE=postgres \
		go test -count=1 -timeout 30m -parallel 8 ./internal/store/... ./activities ./e2e

# unit: the fast tests only (no real servers).
unit:
	go test -count=1 -short ./...

clean: stop
	rm -rf .tandem
