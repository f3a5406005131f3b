package api

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/runs"
)

func listRequest(namespace string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: namespace,
		Query:     runs.WaitingKey.GetName() + " = true AND ExecutionStatus = 'Running'",
		PageSize:  100,
	}
}

// ListFilter narrows List: by kind, runs waiting for a person, and
// Temporal's execution status (Running, Completed, Failed, …).
type ListFilter struct {
	Kind     string
	Waiting  bool
	Sleeping bool // agents sleeping in wait or wait_for_event
	Status   string
	Limit    int
}

// Query is the filter as a Temporal visibility query.
func (f ListFilter) Query() string {
	clauses := []string{runs.KindKey.GetName() + " IS NOT NULL"}
	if f.Kind != "" {
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", runs.KindKey.GetName(), strings.ReplaceAll(f.Kind, "'", "")))
	}
	if f.Waiting {
		clauses = append(clauses, runs.WaitingKey.GetName()+" = true", "ExecutionStatus = 'Running'")
	}
	if f.Sleeping {
		clauses = append(clauses, runs.SleepingUntilKey.GetName()+" IS NOT NULL", "ExecutionStatus = 'Running'")
	}
	if f.Status != "" {
		clauses = append(clauses, fmt.Sprintf("ExecutionStatus = '%s'", strings.ReplaceAll(f.Status, "'", "")))
	}
	return strings.Join(clauses, " AND ")
}

// RunSummary is one run as List returns it.
type RunSummary struct {
	WorkflowID string    `json:"workflowId"`
	RunID      string    `json:"runId"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Step       string    `json:"step"`
	Started    time.Time `json:"started"`
	// SleepingUntil is when a sleeping agent wakes at the latest.
	SleepingUntil *time.Time `json:"sleepingUntil,omitempty"`
}

// List returns Tandem's runs in namespace that the filter selects, newest
// first. An unknown kind is refused with a sentence.
func (c *Client) List(ctx context.Context, namespace string, f ListFilter) ([]RunSummary, error) {
	if f.Kind != "" {
		if _, err := KindNamed(f.Kind); err != nil {
			return nil, &InvalidInputError{Err: err}
		}
	}
	resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: namespace, Query: f.Query(), PageSize: int32(max(f.Limit, 1)),
	})
	if err != nil {
		return nil, fmt.Errorf("list runs with %q: %w", f.Query(), err)
	}
	var out []RunSummary
	for _, e := range resp.GetExecutions() {
		fields := e.GetSearchAttributes().GetIndexedFields()
		summary := RunSummary{WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
			Kind: strings.Trim(string(fields[runs.KindKey.GetName()].GetData()), `"`), Status: e.GetStatus().String(),
			Step: strings.Trim(string(fields[runs.StatusKey.GetName()].GetData()), `"`), Started: e.GetStartTime().AsTime()}
		if raw := strings.Trim(string(fields[runs.SleepingUntilKey.GetName()].GetData()), `"`); raw != "" {
			if until, err := time.Parse(time.RFC3339Nano, raw); err == nil {
				summary.SleepingUntil = &until
			}
		}
		out = append(out, summary)
	}
	return out, nil
}

// Wait waits until the run ends, decoding its result into valuePtr, or
// stops at a decision it waits for, which it returns.
func (c *Client) Wait(ctx context.Context, run client.WorkflowRun, valuePtr any) (*runs.PendingDecision, error) {
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { done <- run.Get(ctx, valuePtr) }()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return nil, err
		case <-tick.C:
			if st, err := c.Status(ctx, run.GetID()); err == nil && st.Pending != nil {
				return st.Pending, nil
			}
		}
	}
}
