package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/text"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

// agentCmd runs an agent on a goal and follows it, or chats with it.
func agentCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent GOAL...",
		Short: "Run an agent on a goal with a profile; --chat to talk to it while it works",
		Example: "  starter agent --profile research \"How long is the return window?\"\n  starter agent --profile customer-service --for C-100 --chat \"Order O-20931 never arrived.\"\n" +
			"  starter agent --profile research --var question=\"How long is the return window?\"",
	}
	profile := cmd.Flags().String("profile", "research", "agent profile the workers loaded (starter profiles lists them)")
	vars := cmd.Flags().StringToString("var", nil, "fill the profile's goal template, as name=value (when no goal is given)")
	extra := cmd.Flags().String("context", "", "extra context for the goal")
	requestedBy := cmd.Flags().String("for", "", "who the run is for: a customer id or email address (approvers see whether a message goes to them)")
	sandboxed := sandboxFlag(cmd.Flags())
	budget := agentBudgetFlags(cmd.Flags())
	wait := cmd.Flags().Bool("wait", true, "follow the run until it ends or waits for an approval")
	chat := cmd.Flags().Bool("chat", false, "interactive: follow the run, send what you type as messages; /approve, /always, /reject REASON, /edit JSON decide approvals")
	as := cmd.Flags().String("as", os.Getenv("USER"), "your name, for chat messages and decisions")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		asJSON := a.json()
		goal := strings.TrimSpace(strings.Join(args, " "))
		if goal == "" && len(*vars) == 0 {
			return usageError{errors.New(`agent needs a goal, like: starter agent --profile research "How long is the return window?", or --var values for its profile's goal template`)}
		}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		results := make([]workflows.AgentResult, 1)
		result := func(i int) any { return &results[i] }
		outcomes, err := startAll(ctx, c, cfg, []job{{sandbox: *sandboxed, source: *profile,
			kind: "agent", input: workflows.AgentInput{Goal: goal, Vars: *vars, Context: *extra, Profile: *profile, RequestedBy: *requestedBy,
				Policy: budget(), Model: modelSettings(cfg)},
			memo: map[string]any{"profile": *profile}}}, false, result)
		if err != nil {
			return err
		}
		run := outcomes[0].run
		if !*wait && !*chat {
			printStarted(out, asJSON, cfg, outcomes)
			return nil
		}
		if !asJSON {
			fmt.Fprintf(out, "▶ agent %s (%s): %s\n  %s\n", run.GetID(), *profile, goal, cfg.WorkflowURL(run.GetID(), run.GetRunID()))
		}
		var lines <-chan string
		if *chat {
			lines = readLines(os.Stdin)
			if !asJSON {
				fmt.Fprintln(out, "  type a message and press enter; /approve, /always (this tool for the rest of the run), /reject REASON or /edit JSON when it asks; /quit to leave it running")
			}
		}
		return followAgent(ctx, c, cfg, run, asJSON, lines, *as, out)
	}
	return cmd
}

// followAgent prints the agent's new turns as they happen, until it ends,
// or (without chat) until it waits for an approval.
func followAgent(ctx context.Context, c client.Client, cfg config.Config, run client.WorkflowRun, asJSON bool, lines <-chan string, as string, out io.Writer) error {
	done := make(chan error, 1)
	var res workflows.AgentResult
	go func() { done <- run.Get(ctx, &res) }()
	tick := time.NewTicker(400 * time.Millisecond)
	defer tick.Stop()
	shown, asked, reviewed, lastLive := 0, "", "", ""
	for {
		select {
		case err := <-done:
			showTurns(ctx, c, run, &shown, asJSON, out)
			if err != nil {
				return runFailed(run.GetID(), err)
			}
			printAgentResult(out, asJSON, cfg, run, res)
			return nil
		case line, ok := <-lines:
			if !ok || strings.TrimSpace(line) == "/quit" {
				fmt.Fprintf(out, "Left %s running; follow it with `starter status %s`.\n", run.GetID(), run.GetID())
				return nil
			}
			if err := chatLine(ctx, c, cfg, run.GetID(), as, reviewed, line, out); err != nil {
				fmt.Fprintln(out, "  ! "+err.Error())
			}
		case <-tick.C:
			view := showTurns(ctx, c, run, &shown, asJSON, out)
			if live := liveOutput(ctx, c, run.GetID()); !asJSON && live != "" && live != lastLive {
				lastLive = live
				fmt.Fprintf(out, "  … %s\n", text.Terminal(live))
			}
			if view.Pending != nil && view.Pending.Hash != asked {
				asked, reviewed = view.Pending.Hash, view.Pending.Hash
				if asJSON {
					writeJSON(out, map[string]any{"workflowId": run.GetID(), "pending": view.Pending})
				} else {
					fmt.Fprintf(out, "  ⏸ waiting for %s: %s\n", strings.Join(view.Pending.Approvers, " or "), oneLine(view.Pending.Question, 200))
				}
				if lines == nil {
					if !asJSON {
						fmt.Fprintf(out, "  decide: starter approve %s --by %s --hash %s   (or reject … --reason …, or edit … --text JSON)\n  %s\n",
							run.GetID(), view.Pending.Approvers[0], view.Pending.Hash, cfg.WorkflowURL(run.GetID(), run.GetRunID()))
					}
					return nil
				}
			}
		}
	}
}

// showTurns prints the turns the agent Query shows that were not printed yet.
func showTurns(ctx context.Context, c client.Client, run client.WorkflowRun, shown *int, asJSON bool, out io.Writer) workflows.AgentView {
	view, err := api.NewClient(c, "").Agent(ctx, run.GetID())
	if err != nil {
		return view
	}
	for _, t := range view.Recent {
		if t.Step <= *shown {
			continue
		}
		*shown = t.Step
		if asJSON {
			writeJSON(out, map[string]any{"workflowId": run.GetID(), "turn": t})
			continue
		}
		fmt.Fprintf(out, "  %s\n", oneLine(runs.RenderTurn(t), 160))
	}
	return view
}

// chatLine sends one line typed in chat mode: a decision command, bound to
// the pending decision the chat showed (reviewed, its hash), or a message.
func chatLine(ctx context.Context, c client.Client, cfg config.Config, id, as, reviewed, line string, out io.Writer) error {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	cmd, rest, _ := strings.Cut(line, " ")
	switch cmd {
	case "/approve":
		return sendDecision(ctx, c, cfg, id, runs.Decision{Approve: true, By: as, Reason: rest, Hash: reviewed})
	case "/always":
		return sendDecision(ctx, c, cfg, id, runs.Decision{Approve: true, By: as, Reason: rest, Hash: reviewed, Always: true})
	case "/reject":
		return sendDecision(ctx, c, cfg, id, runs.Decision{By: as, Reason: rest, Hash: reviewed})
	case "/edit":
		return sendDecision(ctx, c, cfg, id, runs.Decision{Approve: true, By: as, Edit: rest, Hash: reviewed})
	}
	return sendMessage(ctx, c, id, runs.AgentMessage{From: as, Text: line})
}

func sendMessage(ctx context.Context, c client.Client, id string, m runs.AgentMessage) error {
	if err := api.NewClient(c, "").Message(ctx, id, m); err != nil {
		return refusedBy(id, "the message", err)
	}
	return nil
}

// messageCmd sends a person's message to a running agent.
func messageCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "message WORKFLOW-ID TEXT...",
		Short:   "Send a message to a running agent",
		Example: "  starter message agent-3f2a… --from alice \"The customer is premium.\"",
	}
	from := cmd.Flags().String("from", os.Getenv("USER"), "who writes")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		if len(args) < 2 {
			return usageError{errors.New("message needs a workflow id and the text")}
		}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := sendMessage(ctx, c, args[0], runs.AgentMessage{From: *from, Text: strings.Join(args[1:], " ")}); err != nil {
			return usageError{err}
		}
		fmt.Fprintf(out, "Sent to %s.\n", args[0])
		return nil
	}
	return cmd
}

// eventCmd delivers another system's event to a running agent.
func eventCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "event WORKFLOW-ID NAME",
		Short: "Deliver an event to a running agent; it wakes the agent when it sleeps",
		Example: "  starter event agent-3f2a… survey-results --file results.json\n" +
			"  starter event agent-3f2a… payment-received --data \"INV-1041 paid in full\" --from billing",
		Args: cobra.ExactArgs(2),
	}
	from := cmd.Flags().String("from", os.Getenv("USER"), "who delivers it")
	data := cmd.Flags().String("data", "", "what it says, as text or JSON")
	file := cmd.Flags().String("file", "", "read what it says from a file")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		body := *data
		if *file != "" {
			b, err := os.ReadFile(*file)
			if err != nil {
				return usageError{fmt.Errorf("cannot read the event's data: %w", err)}
			}
			body = strings.TrimSpace(string(b))
		}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := api.NewClient(c, "").Event(ctx, args[0], runs.AgentEvent{Name: args[1], From: *from, Data: body}); err != nil {
			return usageError{refusedBy(args[0], "the event", err)}
		}
		fmt.Fprintf(out, "Delivered %s to %s.\n", args[1], args[0])
		return nil
	}
	return cmd
}

// campaignResultsCmd delivers a campaign's results to the marketing agent
// running it.
func campaignResultsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign-results WORKFLOW-ID FILE",
		Short: "Deliver a campaign's results (a JSON file, or - for stdin) to the agent running it",
		Example: "  starter campaign-results agent-marketing-campaign-3f2a… week-1.json --from mailer\n\n" +
			"  week-1.json: {\"campaign\": \"CMP-SPRING\", \"batch\": \"week-1\", \"results\": [\n" +
			"    {\"content\": \"CMP-SPRING-V1\", \"sent\": 18000, \"opens\": 5200, \"clicks\": 610, \"conversions\": 95, \"spend\": \"400.00\"}]}",
		Args: cobra.ExactArgs(2),
	}
	from := cmd.Flags().String("from", os.Getenv("USER"), "who reports the results")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		data, name, err := readInput("results file", args[1])
		if err != nil {
			return usageError{err}
		}
		var results workflows.CampaignResults
		if err := decodeJSONInput("results", name, data, &results, `campaign, batch and results (content, sent, opens, clicks, conversions, spend)`); err != nil {
			return usageError{err}
		}
		c, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		err = api.NewClient(c, "").CampaignResults(ctx, args[0], *from, results)
		var invalid *api.InvalidInputError
		switch {
		case errors.As(err, &invalid):
			return usageError{fmt.Errorf("results file %s: %w", name, invalid)}
		case err != nil:
			return usageError{refusedBy(args[0], "the results", err)}
		}
		fmt.Fprintf(out, "Delivered results %s of %s to %s.\n", results.Batch, results.Campaign, args[0])
		return nil
	}
	return cmd
}

func printAgentResult(out io.Writer, asJSON bool, cfg config.Config, run client.WorkflowRun, res workflows.AgentResult) {
	if asJSON {
		writeJSON(out, map[string]any{"workflowId": run.GetID(), "runId": run.GetRunID(), "url": cfg.WorkflowURL(run.GetID(), run.GetRunID()), "result": res})
		return
	}
	printAgent(out, run.GetID(), res)
	fmt.Fprintf(out, "  %s\n", cfg.WorkflowURL(run.GetID(), run.GetRunID()))
}

func printAgent(out io.Writer, id string, res workflows.AgentResult) {
	mark := "✔"
	if res.Outcome != "finished" {
		mark = "■"
	}
	fmt.Fprintf(out, "%s agent %s ended (%s): %s\n", mark, id, res.Outcome, res.Reason)
	if res.Answer != "" {
		fmt.Fprintf(out, "  answer:  %s\n", oneLine(res.Answer, 140))
	}
	if len(res.Cited) > 0 {
		fmt.Fprintf(out, "  cited:   %s\n", strings.Join(res.Cited, ", "))
	}
	if len(res.Unread) > 0 {
		fmt.Fprintf(out, "  cited but never read in this run: %s\n", strings.Join(res.Unread, ", "))
	}
	if len(res.Read) > 0 {
		fmt.Fprintf(out, "  read:    %s\n", strings.Join(res.Read, ", "))
	}
	var trail []string
	for _, t := range res.Trail {
		trail = append(trail, fmt.Sprintf("%s(%s)", t.Tool, t.Outcome))
	}
	fmt.Fprintf(out, "  trail:   %s\n", oneLine(strings.Join(trail, " → "), 200))
	for _, e := range res.Events {
		fmt.Fprintf(out, "  policy:  step %d %s %s %s %s\n", e.Step, e.Tool, e.Kind, e.By, e.Reason)
	}
	if len(res.Models) > 1 {
		var scores []string
		for _, m := range res.Models {
			scores = append(scores, fmt.Sprintf("%s %d of %d valid", m.Model, m.Valid, m.Asked))
		}
		fmt.Fprintf(out, "  models:  %s\n", strings.Join(scores, " · "))
	}
	b := res.Budget
	fmt.Fprintf(out, "  budget:  %d/%d steps · %d/%d tokens · %d model calls · %s · %d continue-as-new\n",
		b.Steps, b.MaxSteps, b.Tokens, b.MaxTokens, res.ModelCalls, b.Elapsed.Round(time.Millisecond), res.Runs)
}

// profilesCmd lists the agent profiles the workers have loaded.
func profilesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "profiles",
		Short:   "List the agent profiles the workers have loaded: built-in and TANDEM_PROFILES_DIR",
		Example: "  starter profiles\n  starter profiles -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			c, err := dial(ctx, a.cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			profiles, err := api.NewClient(c, a.cfg.TaskQueue).Profiles(ctx)
			if err != nil {
				return err
			}
			if a.json() {
				writeJSON(out, profiles)
				return nil
			}
			for _, p := range profiles {
				fmt.Fprintf(out, "%-18s %s\n", p.Name, p.Description)
				fmt.Fprintf(out, "%-18s tools: %s\n", "", strings.Join(p.Policy.Tools, ", "))
				if len(p.Policy.NeedApproval) > 0 {
					fmt.Fprintf(out, "%-18s needs approval: %s\n", "", strings.Join(p.Policy.NeedApproval, ", "))
				}
				if p.Goal != "" {
					fmt.Fprintf(out, "%-18s goal: %s\n", "", p.Goal)
				}
				fmt.Fprintf(out, "%-18s from: %s\n", "", p.Source)
			}
			return nil
		},
	}
}

func readLines(r io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}
