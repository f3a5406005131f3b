package activities

import (
	"os"
	"testing"

	"github.com/tandemhq/tandem/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopPostgres()
	os.Exit(code)
}
