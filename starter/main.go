// Command starter is Tandem's command-line client: it starts workflows and
// agents, waits for them and prints their results, answers the decisions
// they wait for, and prepares the model on the local Ollama server.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/workflows"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1 // a run failed, or a server refused
	exitBadInput = 2 // bad flags, files or input
)

// usageError marks an error the user made in calling the starter.
type usageError struct{ error }

// app is what every command shares: the configuration, from the
// environment and the global flags, and the output format.
type app struct {
	cfg    config.Config
	output string // text or json
}

// json reports whether output is JSON (-o json).
func (a *app) json() bool { return a.output == "json" }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{cfg: config.FromEnv(), output: cmp.Or(os.Getenv("TANDEM_OUTPUT"), "text")}
	root := newRoot(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	flushTraces()
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "starter:", err)
		return exitBadInput
	case strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(stderr, "starter: unknown command %q; run `starter help` for the list\n", strings.Split(err.Error(), `"`)[1])
		return exitBadInput
	default:
		fmt.Fprintln(stderr, "starter:", err)
		return exitFailed
	}
}

// newRoot builds the command tree.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "Start and follow Tandem's workflows and agents, and decide what they ask people to decide",
		Long: "starter starts Tandem's AI-augmented workflows and agents on Temporal, follows them, and sends people's decisions.\n\n" +
			"Every setting is a flag and an environment variable (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, OLLAMA_HOST, TANDEM_MODEL, …);\n" +
			"flags win. Exit codes: 0 done, 1 a run failed or a server refused, 2 bad input.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.output != "text" && a.output != "json" {
				return usageError{fmt.Errorf("--output %q is not text or json", a.output)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Help()
			return usageError{errors.New("give a command; run `starter help` for the list")}
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.cfg.TemporalAddress, "address", a.cfg.TemporalAddress, "Temporal frontend `host:port` (TEMPORAL_ADDRESS)")
	pf.StringVar(&a.cfg.Namespace, "namespace", a.cfg.Namespace, "Temporal namespace (TEMPORAL_NAMESPACE)")
	pf.StringVar(&a.cfg.TaskQueue, "task-queue", a.cfg.TaskQueue, "task queue of the workflows (TANDEM_TASK_QUEUE)")
	pf.StringVar(&a.cfg.ModelTaskQueue, "model-task-queue", a.cfg.ModelTaskQueue, "task queue of the model calls (TANDEM_MODEL_TASK_QUEUE)")
	pf.StringVar(&a.cfg.OllamaHost, "ollama", a.cfg.OllamaHost, "Ollama server `URL` (OLLAMA_HOST)")
	pf.StringVar(&a.cfg.Model, "model", a.cfg.Model, "model name on the Ollama server (TANDEM_MODEL)")
	pf.StringVar(&a.cfg.UIURL, "ui", a.cfg.UIURL, "Temporal Web UI base `URL`, for links (TANDEM_UI_URL)")
	pf.StringVarP(&a.output, "output", "o", a.output, "output format: text or json (TANDEM_OUTPUT)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		routeTicketCmd(a), invoiceCmd(a), leaveCmd(a), complianceCmd(a), scheduleCmd(a),
		agentCmd(a), profilesCmd(a), mcpCmd(a), messageCmd(a), eventCmd(a), campaignResultsCmd(a), decideCmd(a, "approve"), decideCmd(a, "reject"), decideCmd(a, "edit"),
		statusCmd(a), watchCmd(a), resultCmd(a), auditCmd(a), compareCmd(a), listCmd(a), usageCmd(a), modelCmd(a),
	)
	return root
}

// args is a cobra argument check that refuses, as a usage error, fewer
// than min or more than max arguments (max < 0: no limit) with why.
func args(min, max int, why string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return usageError{errors.New(why)}
		}
		return nil
	}
}

// kindFlag adds --kind to a command that reads runs of one kind.
func kindFlag(cmd *cobra.Command) *string {
	return cmd.Flags().String("kind", "", "only runs of this kind: ticket-routing, invoice, leave, compliance, agent")
}

// checkKind refuses an unknown --kind as a usage error; empty is every kind.
func checkKind(kind string) error {
	if kind == "" {
		return nil
	}
	if _, err := api.KindNamed(kind); err != nil {
		return usageError{err}
	}
	return nil
}

// agentBudgetFlags adds --max-steps and --max-tokens to a command that starts
// agents; the returned function is the policy they narrow the profile's
// budgets to (nil when neither is given). A run may narrow its profile's
// budgets, never widen them.
func agentBudgetFlags(fs *pflag.FlagSet) func() *workflows.AgentPolicy {
	steps := fs.Int("max-steps", 0, "stop the agent after this many steps (default and most: the profile's)")
	tokens := fs.Int("max-tokens", 0, "stop the agent after this many prompt and output tokens (default and most: the profile's)")
	return func() *workflows.AgentPolicy {
		if *steps == 0 && *tokens == 0 {
			return nil
		}
		return &workflows.AgentPolicy{MaxSteps: *steps, MaxTokens: *tokens}
	}
}

// sandboxFlag adds --sandbox to a command that starts runs.
func sandboxFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("sandbox", false, "record side effects (ledger, outbox, refunds, balances) instead of performing them")
}
