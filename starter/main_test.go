package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// runStarter runs the starter's command line in-process with the given
// environment and returns its exit code, stdout and stderr.
func runStarter(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRouteTicketBadInput(t *testing.T) {
	valid := `{"subject":"s","body":"b","customer":"c","channel":"email"}`
	cases := []struct {
		name, file, want string
	}{
		{"missing file", "", "ticket file %s does not exist"},
		{"empty file", "  \n", "ticket file %s is empty; it should hold one JSON object with subject, body, customer and channel"},
		{"not JSON", "subject: hello", "ticket file %s is not a JSON ticket"},
		{"unknown field", `{"subject":"s","body":"b","customer":"c","channel":"email","prio":1}`, `unknown field "prio"`},
		{"missing fields", `{"subject":"s","channel":"email"}`, "ticket file %s: the ticket has no body, customer; give it subject, body, customer and channel"},
		{"bad channel", strings.Replace(valid, "email", "fax", 1), `the ticket's channel "fax" is not one of email, chat, phone, web`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "missing.json")
			if c.file != "" {
				path = writeFile(t, "ticket.json", c.file)
			}
			// An unreachable server proves the input is refused before dialing.
			code, stdout, stderr := runStarter(t, map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}, "route-ticket", path)
			assert.Equal(t, exitBadInput, code)
			assert.Empty(t, stdout)
			want := strings.Replace(c.want, "%s", path, 1)
			assert.Contains(t, stderr, want)
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
		})
	}
}

func TestRouteTicketTemporalUnreachable(t *testing.T) {
	path := writeFile(t, "ticket.json", `{"subject":"s","body":"b","customer":"c","channel":"email"}`)
	code, _, stderr := runStarter(t, map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}, "route-ticket", path)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, "the Temporal server at 127.0.0.1:1 is not answering")
	assert.Contains(t, stderr, "set TEMPORAL_ADDRESS")
}

func TestModelOllamaUnreachable(t *testing.T) {
	code, _, stderr := runStarter(t, map[string]string{"OLLAMA_HOST": "127.0.0.1:1"}, "model")
	assert.Equal(t, exitFailed, code)
	assert.Equal(t, "starter: the Ollama server at http://127.0.0.1:1 is not answering; start it with `ollama serve`, or set OLLAMA_HOST\n", stderr)
}

func TestUsage(t *testing.T) {
	code, _, stderr := runStarter(t, nil)
	assert.Equal(t, exitBadInput, code)
	assert.Contains(t, stderr, "route-ticket")

	code, _, stderr = runStarter(t, nil, "frobnicate")
	assert.Equal(t, exitBadInput, code)
	assert.Equal(t, "starter: unknown command \"frobnicate\"; run `starter help` for the list\n", stderr)

	code, _, stderr = runStarter(t, nil, "route-ticket")
	assert.Equal(t, exitBadInput, code)
	assert.Contains(t, stderr, "route-ticket needs at least one ticket file")

	code, _, stderr = runStarter(t, map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}, "list", "--kind", "bogus")
	assert.Equal(t, exitBadInput, code)
	assert.Equal(t, "starter: kind \"bogus\" is not one of ticket-routing, invoice, leave, compliance, agent\n", stderr)

	code, _, stderr = runStarter(t, nil, "status", "-o", "yaml", "x")
	assert.Equal(t, exitBadInput, code)
	assert.Equal(t, "starter: --output \"yaml\" is not text or json\n", stderr)

	code, _, stderr = runStarter(t, nil, "approve", "--nope", "x")
	assert.Equal(t, exitBadInput, code)
	assert.Equal(t, "starter: unknown flag: --nope\n", stderr)
}

func TestResolveDate(t *testing.T) {
	today := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	assert.Equal(t, "2026-12-25", resolveDate("+30d", today))
	assert.Equal(t, "2026-11-25", resolveDate("+0d", today))
	assert.Equal(t, "2027-01-04", resolveDate("2027-01-04", today))
	assert.Equal(t, "tomorrow", resolveDate("tomorrow", today), "left for the workflow to refuse")
}

func TestInvoiceFromAScannedPDFIsRefused(t *testing.T) {
	code, stdout, stderr := runStarter(t, map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1"}, "invoice", "../testdata/invoices/scanned.pdf")
	assert.Equal(t, exitBadInput, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "starter: invoice file ../testdata/invoices/scanned.pdf: the PDF has no text layer (is it a scan?); run OCR on it first, or send the invoice's text\n", stderr)
}

func TestUsageWindows(t *testing.T) {
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "12h": 12 * time.Hour, "7d": 7 * 24 * time.Hour, "4w": 28 * 24 * time.Hour} {
		got, err := parseSince(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "0d", "-3h", "3x", "d"} {
		_, err := parseSince(bad)
		assert.Error(t, err, bad)
	}
}
