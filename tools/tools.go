//go:build tools

// Package tools pins the development servers Tandem builds for `make run`
// and the tests: the Temporal CLI (dev server and Web UI).
package tools

import (
	_ "github.com/temporalio/cli/cmd/temporal"
	_ "go.temporal.io/sdk/contrib/tools/workflowcheck"
)
