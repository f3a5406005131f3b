// Command starter is Tandem's command-line client: it starts workflows, waits
// for them and prints their results, and prepares the model on the local
// Ollama server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tandemhq/tandem/internal/config"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1 // a run failed, or a server refused
	exitBadInput = 2 // bad flags, files or input
)

// usageError marks an error the user made in calling the starter.
type usageError struct{ error }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, cfg config.Config, args []string, out io.Writer) error
}

var commands = []command{
	{"route-ticket", "route support tickets from JSON files (or - for stdin) and print the results", routeTicket},
	{"invoice", "process invoices from text files (or - for stdin): extract, validate, decide, post", processInvoice},
	{"leave", "request leave from JSON files (or - for stdin); dates may be relative, like +30d", requestLeave},
	{"compliance", "run compliance monitoring over a period and write its report", compliance},
	{"schedule", "create, describe, pause, unpause, trigger or delete the compliance schedule", schedule},
	{"agent", "run an agent on a goal with a profile; --chat to talk to it while it works", runAgent},
	{"message", "send a message to a running agent", message},
	{"approve", "approve the decision a run is waiting for", decide("approve")},
	{"reject", "reject the decision a run is waiting for, with a reason", decide("reject")},
	{"edit", "approve a run's pending draft with edited text", decide("edit")},
	{"status", "show a run's step, pending decision and result", status},
	{"watch", "follow a run live: steps, decisions, an agent's turns and tokens, the result", watch},
	{"result", "wait for a run to end and print its result", result},
	{"audit", "print from a run's history its input hash, model calls with digests, people's decisions and outcome", audit},
	{"compare", "run a task through its workflow and through an agent N times each, and compare them side by side", compare},
	{"list", "list Tandem runs by kind, status, or waiting for a decision", list},
	{"model", "make sure the configured model is on the Ollama server (pull or import it)", ensureModel},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitBadInput
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		cfg := config.FromEnv()
		err := c.run(ctx, cfg, args[1:], stdout)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, new(usageError)):
			fmt.Fprintln(stderr, "starter:", err)
			return exitBadInput
		default:
			fmt.Fprintln(stderr, "starter:", err)
			return exitFailed
		}
	}
	fmt.Fprintf(stderr, "starter: unknown command %q; run `starter help` for the list\n", args[0])
	return exitBadInput
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: starter <command> [flags] [args]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `starter <command> -h` for a command's flags. Settings come from the environment\n(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, OLLAMA_HOST, TANDEM_MODEL, ...) and flags.")
}

// newFlagSet returns a flag set for one command that reports errors as
// usage errors and binds the shared configuration flags.
func newFlagSet(name, argsHelp string, cfg *config.Config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	cfg.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: starter %s [flags] %s\n\nFlags:\n", name, argsHelp)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
