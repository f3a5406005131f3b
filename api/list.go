package api

import (
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tandemhq/tandem/workflows"
)

func listRequest(namespace string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: namespace,
		Query:     workflows.WaitingKey.GetName() + " = true AND ExecutionStatus = 'Running'",
		PageSize:  100,
	}
}
