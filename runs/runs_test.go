package runs

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAGoClientLinksNoModelClientOrValidator keeps package runs light: a
// service that imports it to follow or decide runs links neither the Ollama
// client, the JSON-schema validator nor a database driver.
func TestAGoClientLinksNoModelClientOrValidator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/tandemhq/tandem/runs").Output()
	require.NoError(t, err)
	for _, heavy := range []string{"github.com/ollama/", "jsonschema", "github.com/jackc/pgx", "modernc.org/sqlite", "tandem/activities", "tandem/workflows"} {
		assert.NotContains(t, string(out), heavy)
	}
	assert.Contains(t, string(out), "go.temporal.io/sdk/temporal")
}

func TestCheckAndTurnLines(t *testing.T) {
	assert.Equal(t, "✔ vendor: in the master", Check{Name: "vendor", Passed: true, Detail: "in the master"}.Line())
	assert.Equal(t, "✘ (no approval overrides this) total: 119.00 ≠ 120.00",
		Check{Name: "total", Detail: "119.00 ≠ 120.00", Hard: true}.Line())
	turn := Turn{Step: 3, Kind: "tool", Tool: "lookup_order", Args: []byte(`{"orderId":"O-1"}`), Observation: "shipped"}
	assert.Equal(t, `Step 3: lookup_order {"orderId":"O-1"} → shipped`, RenderTurn(turn))
	assert.True(t, strings.HasPrefix(RenderTurn(Turn{Step: 4, Kind: "message", From: "ana", Observation: "hi"}), "Step 4: message from ana"))
}

func TestKindsOfWorkflowTypes(t *testing.T) {
	assert.Equal(t, "ticket-routing", KindOf(TicketRoutingName))
	assert.Equal(t, "agent", KindOf(AgentName))
	assert.Equal(t, "compliance", KindOf(ComplianceMonitoringName))
	assert.Equal(t, "Payroll", KindOf("Payroll"), "not one of Tandem's")
}
