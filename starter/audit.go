package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/activities"
	"github.com/tandemhq/tandem/runs"
)

// AuditRecord is what a run's history says it did, for an auditor.
type AuditRecord struct {
	WorkflowID string       `json:"workflowId"`
	Type       string       `json:"type"`
	Runs       []string     `json:"runs"` // run ids, first to last (continue-as-new)
	Status     string       `json:"status"`
	InputHash  string       `json:"inputHash"`            // sha256 of the first run's input
	DataPolicy *AuditPolicy `json:"dataPolicy,omitempty"` // the rules the run recorded at its start
	// PolicyChanges are the policies a long-running agent moved to when its
	// worker's policy changed, in order.
	PolicyChanges []AuditPolicy `json:"policyChanges,omitempty"`
	Memo          any           `json:"memo,omitempty"`
	ModelCalls    []AuditModel  `json:"modelCalls"`
	MCPCalls      []AuditMCP    `json:"mcpCalls,omitempty"`
	Remembered    []AuditFact   `json:"remembered,omitempty"` // facts the agent kept for later runs, as stored
	Decisions     []AuditEvent  `json:"decisions"`            // people's Updates, in order
	Outcome       any           `json:"outcome,omitempty"`
	// A run still going: the checks so far and the decision it waits for,
	// from its status Query.
	Checks  []runs.Check          `json:"checks,omitempty"`
	Pending *runs.PendingDecision `json:"pending,omitempty"`
}

// AuditModel is one model call as its activity result records it.
type AuditModel struct {
	Purpose      string `json:"purpose"`
	Model        string `json:"model"`
	Digest       string `json:"digest"`
	PromptTokens int    `json:"promptTokens"`
	OutputTokens int    `json:"outputTokens"`
}

// AuditMCP is one call of an MCP server's tool, as the run's history
// records its activity: the arguments by digest only.
type AuditMCP struct {
	Step       int    `json:"step"`
	Server     string `json:"server"`
	Tool       string `json:"tool"`
	ArgsDigest string `json:"argsDigest"`
	Outcome    string `json:"outcome"` // ok, tool error, sandboxed, unknown, failed: …, or running
}

// AuditFact is a fact an agent remembered, as the store keeps it (redacted).
type AuditFact struct {
	Step int    `json:"step"`
	Fact string `json:"fact"`
}

// mcpOutcome names how a call's activity ended, from its result.
func mcpOutcome(res activities.ToolResult) string {
	switch {
	case strings.HasPrefix(res.Observation, "sandbox: "):
		return "sandboxed: recorded, not called"
	case strings.HasPrefix(res.Observation, "the tool reported an error: "):
		return "tool error"
	case strings.HasPrefix(res.Observation, "the outcome of "):
		return "unknown: the worker stopped during the call"
	}
	return "ok"
}

// AuditPolicy is the data-policy snapshot a run recorded.
type AuditPolicy struct {
	Hash   string `json:"hash"`
	Source string `json:"source"`
}

// AuditEvent is one Update a person sent, as accepted into history.
type AuditEvent struct {
	Update string          `json:"update"` // decide or message
	Input  json.RawMessage `json:"input"`
}

// auditCmd prints, from a run's history alone, its input hash, every model call
// with model and digest, every decision and who made it, and its outcome.
func auditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "audit WORKFLOW-ID",
		Short:   "Print from a run's history its input hash, model calls with digests, people's decisions and outcome",
		Example: "  starter audit invoice-0a4c…\n  starter audit -o json agent-3f2a…",
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, cfg, out := cmd.Context(), a.cfg, cmd.OutOrStdout()
		asJSON := a.json()
		c, id, err := openRun(ctx, cfg, "audit", args)
		if err != nil {
			return err
		}
		defer c.Close()
		dec, err := newPayloadDecoder()
		if err != nil {
			return err
		}
		rec, err := auditRun(ctx, c, cfg.Namespace, id, dec)
		if err != nil {
			return err
		}
		if asJSON {
			writeJSON(out, rec)
			return nil
		}
		fmt.Fprintf(out, "%s  %s  %s  (%d run%s)\n", rec.WorkflowID, rec.Type, rec.Status, len(rec.Runs), plural(len(rec.Runs)))
		fmt.Fprintf(out, "  input sha256: %s\n", rec.InputHash)
		if p := rec.DataPolicy; p != nil {
			fmt.Fprintf(out, "  data policy: %s (%s)\n", p.Hash, p.Source)
		} else {
			fmt.Fprintf(out, "  data policy: none recorded (the run predates data policies)\n")
		}
		for _, p := range rec.PolicyChanges {
			fmt.Fprintf(out, "  data policy changed to: %s (%s)\n", p.Hash, p.Source)
		}
		if rec.Memo != nil {
			memo, _ := json.Marshal(rec.Memo)
			fmt.Fprintf(out, "  memo: %s\n", memo)
		}
		fmt.Fprintf(out, "  model calls: %d\n", len(rec.ModelCalls))
		for _, m := range rec.ModelCalls {
			fmt.Fprintf(out, "    %-22s %s (%s) %d+%d tokens\n", m.Purpose, m.Model, activities.ShortDigest(m.Digest), m.PromptTokens, m.OutputTokens)
		}
		for _, f := range rec.Remembered {
			fmt.Fprintf(out, "  remembered at step %d: %s\n", f.Step, oneLine(f.Fact, 200))
		}
		if len(rec.MCPCalls) > 0 {
			fmt.Fprintf(out, "  MCP calls: %d\n", len(rec.MCPCalls))
			for _, m := range rec.MCPCalls {
				fmt.Fprintf(out, "    step %-3d %s.%s args %s: %s\n", m.Step, m.Server, m.Tool, m.ArgsDigest, m.Outcome)
			}
		}
		fmt.Fprintf(out, "  decisions by people: %d\n", len(rec.Decisions))
		for _, d := range rec.Decisions {
			fmt.Fprintf(out, "    %s %s\n", d.Update, oneLine(string(d.Input), 140))
		}
		if rec.Pending != nil {
			printPending(out, "  ", rec.Pending)
		} else if len(rec.Checks) > 0 {
			fmt.Fprintf(out, "  checks so far:\n")
			for _, c := range rec.Checks {
				fmt.Fprintf(out, "    %s\n", oneLine(c.Line(), 200))
			}
		}
		if rec.Outcome != nil {
			o, _ := json.Marshal(rec.Outcome)
			fmt.Fprintf(out, "  outcome: %s\n", oneLine(string(o), 600))
		}
		return nil
	}
	return cmd
}

func auditRun(ctx context.Context, c client.Client, namespace, id string, dec payloadDecoder) (AuditRecord, error) {
	rec := AuditRecord{WorkflowID: id, ModelCalls: []AuditModel{}, Decisions: []AuditEvent{}}
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace,
		Query: fmt.Sprintf("WorkflowId = '%s'", strings.ReplaceAll(id, "'", ""))})
	if err != nil {
		return rec, fmt.Errorf("list the runs of %s: %w", id, err)
	}
	execs := resp.GetExecutions()
	for i := len(execs) - 1; i >= 0; i-- { // newest first from visibility
		rec.Runs = append(rec.Runs, execs[i].GetExecution().GetRunId())
	}
	if len(rec.Runs) == 0 {
		rec.Runs = []string{""}
	}
	decode := dec.first
	for i, runID := range rec.Runs {
		scheduled := map[int64]string{}
		mcpCalls := map[int64]int{}  // scheduled event -> index in rec.MCPCalls
		remembers := map[int64]int{} // scheduled event -> step of a remember call
		iter := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return rec, fmt.Errorf("read the history of %s: %w", id, err)
			}
			switch {
			case ev.GetWorkflowExecutionStartedEventAttributes() != nil:
				a := ev.GetWorkflowExecutionStartedEventAttributes()
				rec.Type = a.GetWorkflowType().GetName()
				if i == 0 {
					sum := sha256.Sum256(decode(a.GetInput()))
					rec.InputHash = fmt.Sprintf("%x", sum)
					if f := a.GetMemo().GetFields(); len(f) > 0 {
						memo := map[string]any{}
						for k, v := range f {
							var val any
							_ = dec.dc.FromPayload(v, &val)
							memo[k] = val
						}
						rec.Memo = memo
					}
				}
			case ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity":
				details := ev.GetMarkerRecordedEventAttributes().GetDetails()
				var marker struct{ ActivityType string }
				if json.Unmarshal(decode(details["data"]), &marker) == nil && marker.ActivityType == "DataPolicy" {
					var snap AuditPolicy
					switch {
					case json.Unmarshal(decode(details["result"]), &snap) != nil:
					case rec.DataPolicy == nil:
						rec.DataPolicy = &snap
					case snap.Hash != rec.DataPolicy.Hash && (len(rec.PolicyChanges) == 0 || rec.PolicyChanges[len(rec.PolicyChanges)-1].Hash != snap.Hash):
						rec.PolicyChanges = append(rec.PolicyChanges, snap)
					}
				}
			case ev.GetActivityTaskScheduledEventAttributes() != nil:
				a := ev.GetActivityTaskScheduledEventAttributes()
				scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
				var tool activities.ToolCall
				if a.GetActivityType().GetName() == "WriteTool" && json.Unmarshal(decode(a.GetInput()), &tool) == nil && tool.Name == "remember" {
					remembers[ev.GetEventId()] = tool.Step
				}
				var call activities.MCPCall
				if a.GetActivityType().GetName() == "CallMCPTool" && json.Unmarshal(decode(a.GetInput()), &call) == nil {
					mcpCalls[ev.GetEventId()] = len(rec.MCPCalls)
					rec.MCPCalls = append(rec.MCPCalls, AuditMCP{Step: call.Step, Server: call.Server, Tool: call.Tool,
						ArgsDigest: activities.ArgsDigest(call.Args), Outcome: "running"})
				}
			case ev.GetActivityTaskFailedEventAttributes() != nil:
				a := ev.GetActivityTaskFailedEventAttributes()
				if i, ok := mcpCalls[a.GetScheduledEventId()]; ok {
					rec.MCPCalls[i].Outcome = "failed: " + a.GetFailure().GetMessage()
				}
			case ev.GetActivityTaskCompletedEventAttributes() != nil:
				a := ev.GetActivityTaskCompletedEventAttributes()
				if step, ok := remembers[a.GetScheduledEventId()]; ok {
					var res activities.ToolResult
					if json.Unmarshal(decode(a.GetResult()), &res) == nil {
						rec.Remembered = append(rec.Remembered, AuditFact{Step: step, Fact: res.Observation})
					}
				}
				if i, ok := mcpCalls[a.GetScheduledEventId()]; ok {
					var res activities.ToolResult
					if json.Unmarshal(decode(a.GetResult()), &res) == nil {
						rec.MCPCalls[i].Outcome = mcpOutcome(res)
					}
				}
				if modelActivities[scheduled[a.GetScheduledEventId()]] {
					var res struct {
						Call AuditModel `json:"call"`
					}
					if json.Unmarshal(decode(a.GetResult()), &res) == nil && res.Call.Model != "" {
						rec.ModelCalls = append(rec.ModelCalls, res.Call)
					}
				}
			case ev.GetWorkflowExecutionUpdateAcceptedEventAttributes() != nil:
				req := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput()
				rec.Decisions = append(rec.Decisions, AuditEvent{Update: req.GetName(), Input: decode(req.GetArgs())})
			case ev.GetWorkflowExecutionCompletedEventAttributes() != nil:
				var outcome any
				if json.Unmarshal(decode(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult()), &outcome) == nil {
					rec.Outcome = summariseOutcome(outcome)
				}
			}
		}
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err == nil {
		rec.Status = desc.GetWorkflowExecutionInfo().GetStatus().String()
	}
	if rec.Status == "Running" {
		if st, err := queryStatus(ctx, c, id); err == nil {
			rec.Checks, rec.Pending = st.Checks, st.Pending
		}
	}
	return rec, nil
}

// summariseOutcome keeps the parts of a result an auditor asks for first:
// the decision, the approval, the route, the ledger entry, the agent's end.
func summariseOutcome(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for _, k := range []string{"approved", "decision", "checks", "route", "classifiedBy", "review", "sandbox", "ledger", "record", "outcome",
		"reason", "cited", "read", "unread", "trail", "events", "models", "location"} {
		if val, ok := m[k]; ok {
			out[k] = val
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
