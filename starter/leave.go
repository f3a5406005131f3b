package main

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/workflows"
)

// leaveCmd requests leave.
func leaveCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "leave FILE... | -",
		Short: "Request leave from JSON files (or - for stdin); dates may be relative, like +30d",
		Example: `  starter leave testdata/leave/within-policy.json
  echo '{"employeeId":"E-101","type":"annual","start":"+30d","end":"+34d","reason":"holiday"}' | starter leave -`,
		Args: args(1, -1, "leave needs at least one leave request file, or - to read one from stdin"),
	}
	sandboxed := sandboxFlag(cmd.Flags())
	wait := cmd.Flags().Bool("wait", true, "wait until each run completes or waits for the manager")
	cmd.RunE = func(cmd *cobra.Command, files []string) error {
		cfg := a.cfg
		jobs := make([]job, len(files))
		for i, name := range files {
			req, source, err := readLeaveRequest(name, time.Now())
			if err != nil {
				return usageError{err}
			}
			jobs[i] = job{sandbox: *sandboxed, source: source, kind: "leave",
				input: workflows.LeaveInput{Request: req, Model: modelSettings(cfg)}}
		}
		return runJobs(cmd.Context(), cfg, jobs, *wait, a.json(), cmd.OutOrStdout(), printLeave)
	}
	return cmd
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
