package activities

import (
	"os"
	"testing"

	"github.com/tandemhq/tandem/internal/mcptools/mcptest"
	"github.com/tandemhq/tandem/internal/testenv"
)

func TestMain(m *testing.M) {
	mcptest.ServeIfAsked()
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}
