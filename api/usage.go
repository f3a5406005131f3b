package api

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tandemhq/tandem/runs"
)

// UsageFilter selects the runs a usage report adds up: those started since
// Since on the client's task queue, of one kind when Kind is set.
type UsageFilter struct {
	Since time.Time
	Kind  string
}

// UsageReport is what Tandem's runs used, added up per kind, per model and
// per agent profile.
type UsageReport struct {
	Since    time.Time               `json:"since"`
	Kinds    map[string]*UsageTotals `json:"kinds"`
	Models   map[string]*ModelTotals `json:"models"`
	Profiles map[string]*UsageTotals `json:"profiles,omitempty"`
}

// UsageTotals add up runs of a kind or an agent profile. A run is one
// workflow id: an agent that continued as new counts once, with the usage
// of all its executions.
type UsageTotals struct {
	Runs      int           `json:"runs"`
	Running   int           `json:"running"`
	Failed    int           `json:"failed"` // failed, timed out or terminated
	TokensIn  int           `json:"tokensIn"`
	TokensOut int           `json:"tokensOut"`
	ModelTime time.Duration `json:"modelTime"`
	Decisions int           `json:"decisions"` // taken by people
	Waited    time.Duration `json:"waited"`    // waiting for people
}

// FailureRate is the share of ended runs that failed.
func (t UsageTotals) FailureRate() float64 {
	ended := t.Runs - t.Running
	if ended == 0 {
		return 0
	}
	return float64(t.Failed) / float64(ended)
}

// ModelTotals add up the calls to one model.
type ModelTotals struct {
	Calls     int           `json:"calls"`
	TokensIn  int           `json:"tokensIn"`
	TokensOut int           `json:"tokensOut"`
	Time      time.Duration `json:"time"`
	Steps     int           `json:"steps"` // agent steps it decided
	Valid     int           `json:"valid"` // of them, valid decisions
}

// Usage adds up the usage that runs keep in their memo (runs.UsageMemo).
func (c *Client) Usage(ctx context.Context, namespace string, f UsageFilter) (UsageReport, error) {
	rep := UsageReport{Since: f.Since.UTC(), Kinds: map[string]*UsageTotals{}, Models: map[string]*ModelTotals{}, Profiles: map[string]*UsageTotals{}}
	clauses := []string{runs.KindKey.GetName() + " IS NOT NULL",
		fmt.Sprintf("TaskQueue = '%s'", strings.ReplaceAll(c.TaskQueue, "'", "")),
		fmt.Sprintf("StartTime >= '%s'", f.Since.UTC().Format(time.RFC3339))}
	if f.Kind != "" {
		if _, err := KindNamed(f.Kind); err != nil {
			return rep, &InvalidInputError{Err: err}
		}
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", runs.KindKey.GetName(), f.Kind))
	}
	query := strings.Join(clauses, " AND ")
	counted := map[string]bool{} // workflow ids counted as a run
	var token []byte
	for {
		resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return rep, fmt.Errorf("list runs with %q: %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			kind := strings.Trim(string(e.GetSearchAttributes().GetIndexedFields()[runs.KindKey.GetName()].GetData()), `"`)
			var u runs.Usage
			if p, ok := e.GetMemo().GetFields()[runs.UsageMemo]; ok {
				dc := c.DataConverter
				if dc == nil {
					dc = converter.GetDefaultDataConverter()
				}
				if err := dc.FromPayload(p, &u); err != nil {
					return rep, fmt.Errorf("read the usage of run %s: %w", e.GetExecution().GetWorkflowId(), err)
				}
			}
			totals := []*UsageTotals{rep.totals(rep.Kinds, kind)}
			if u.Profile != "" {
				totals = append(totals, rep.totals(rep.Profiles, u.Profile))
			}
			first := !counted[e.GetExecution().GetWorkflowId()]
			counted[e.GetExecution().GetWorkflowId()] = true
			for _, t := range totals {
				t.add(u, e.GetStatus(), first)
			}
			for name, m := range u.Models {
				mt := rep.Models[name]
				if mt == nil {
					mt = &ModelTotals{}
					rep.Models[name] = mt
				}
				mt.Calls, mt.TokensIn, mt.TokensOut, mt.Time = mt.Calls+m.Calls, mt.TokensIn+m.TokensIn, mt.TokensOut+m.TokensOut, mt.Time+m.Time
				mt.Steps, mt.Valid = mt.Steps+m.Steps, mt.Valid+m.Valid
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return rep, nil
		}
	}
}

func (r UsageReport) totals(in map[string]*UsageTotals, key string) *UsageTotals {
	t := in[key]
	if t == nil {
		t = &UsageTotals{}
		in[key] = t
	}
	return t
}

// add counts one execution: its usage, and, for the newest execution of a
// workflow id (listed first), the run and how it ended.
func (t *UsageTotals) add(u runs.Usage, status enumspb.WorkflowExecutionStatus, newest bool) {
	for _, m := range u.Models {
		t.TokensIn, t.TokensOut, t.ModelTime = t.TokensIn+m.TokensIn, t.TokensOut+m.TokensOut, t.ModelTime+m.Time
	}
	t.Decisions, t.Waited = t.Decisions+u.Decisions, t.Waited+u.Waited
	if !newest {
		return
	}
	t.Runs++
	switch status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		t.Running++
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		t.Failed++
	}
}
