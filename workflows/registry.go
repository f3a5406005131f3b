package workflows

import "go.temporal.io/sdk/workflow"

// workflowRegistry is what can register workflows: a worker or a replayer.
type workflowRegistry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every Tandem workflow under its type name.
func Register(r workflowRegistry) {
	r.RegisterWorkflowWithOptions(TicketRouting, workflow.RegisterOptions{Name: TicketRoutingName})
	r.RegisterWorkflowWithOptions(InvoiceProcessing, workflow.RegisterOptions{Name: InvoiceProcessingName})
	r.RegisterWorkflowWithOptions(LeaveApproval, workflow.RegisterOptions{Name: LeaveApprovalName})
	r.RegisterWorkflowWithOptions(ComplianceMonitoring, workflow.RegisterOptions{Name: ComplianceMonitoringName})
	r.RegisterWorkflowWithOptions(Agent, workflow.RegisterOptions{Name: AgentName})
	r.RegisterWorkflowWithOptions(ListAgentProfiles, workflow.RegisterOptions{Name: AgentProfilesName})
}
