package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/workflows"
)

func requestLeave(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlagSet("leave", "FILE... | -", &cfg)
	sandboxed := fs.Bool("sandbox", false, "record side effects (ledger, outbox, refunds, balances) instead of performing them")
	asJSON := fs.Bool("json", false, "print results as JSON lines")
	wait := fs.Bool("wait", true, "wait until each run completes or waits for the manager")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("leave needs at least one leave request file, or - to read one from stdin")}
	}
	jobs := make([]job, fs.NArg())
	for i, name := range fs.Args() {
		req, source, err := readLeaveRequest(name, time.Now())
		if err != nil {
			return usageError{err}
		}
		jobs[i] = job{sandbox: *sandboxed, source: source, kind: "leave",
			input: workflows.LeaveInput{Request: req, Model: modelSettings(cfg)}}
	}
	return runJobs(ctx, cfg, jobs, *wait, *asJSON, out, printLeave)
}

// readLeaveRequest reads a leave request; its dates may be YYYY-MM-DD or
// relative to today, like +30d.
func readLeaveRequest(name string, today time.Time) (workflows.LeaveRequest, string, error) {
	var req workflows.LeaveRequest
	data, source, err := readInput("leave request file", name)
	if err != nil {
		return req, source, err
	}
	if err := decodeJSONInput("leave request", source, data, &req, "employeeId, type, start, end and reason"); err != nil {
		return req, source, err
	}
	for _, d := range []*string{&req.Start, &req.End} {
		*d = resolveDate(*d, today)
	}
	if _, _, err := req.Dates(today); err != nil {
		return req, source, fmt.Errorf("leave request file %s: %v", source, err)
	}
	return req, source, nil
}

var relativeDate = regexp.MustCompile(`^\+(\d{1,4})d$`)

// resolveDate turns "+Nd" into the date N days after today; anything else
// is returned as it is, for the workflow to check.
func resolveDate(s string, today time.Time) string {
	s = strings.TrimSpace(s)
	if m := relativeDate.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return today.UTC().AddDate(0, 0, n).Format(time.DateOnly)
	}
	return s
}

func printLeave(out io.Writer, source, id string, res workflows.LeaveResult) {
	verdict := "✖ rejected"
	if res.Approved {
		verdict = "✔ approved"
	}
	fmt.Fprintf(out, "%s\n", strings.Join(nonEmpty(verdict, source, id), "  "))
	fmt.Fprintf(out, "  %s (%s), %d working days · decided by %s\n", res.Employee.Name, res.Employee.ID, res.Days,
		decidedBy(res.Decision.By, res.Decision.Reason))
	printChecks(out, res.Checks)
	if res.Note != nil {
		fmt.Fprintf(out, "  note: %s\n", oneLine(res.Note.Summary, 110))
	}
	switch {
	case res.Record.Sandbox:
		fmt.Fprintf(out, "  sandbox: the calendar, the balance and the notification were recorded, not written\n")
	case res.Record.BalanceAfter != nil:
		fmt.Fprintf(out, "  balance now %s days · employee notified\n", res.Record.BalanceAfter)
	default:
		fmt.Fprintf(out, "  employee notified\n")
	}
}
