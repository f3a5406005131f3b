package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// SearchAttributes lists every search attribute above with its type, for the
// worker to register on the namespace at start.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	KindKey.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	StatusKey.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	CustomerKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	CategoryKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	QueueKey.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	EmployeeKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	WaitingKey.GetName():       enumspb.INDEXED_VALUE_TYPE_BOOL,
	SandboxKey.GetName():       enumspb.INDEXED_VALUE_TYPE_BOOL,
	InputDigestKey.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	SleepingUntilKey.GetName(): enumspb.INDEXED_VALUE_TYPE_DATETIME,
}

// setStep records the run's current step in the Web UI (search attribute and
// current details) and in the workflow log.
func setStep(ctx workflow.Context, status, details string, also ...temporal.SearchAttributeUpdate) {
	workflow.SetCurrentDetails(ctx, details)
	if err := workflow.UpsertTypedSearchAttributes(ctx, append([]temporal.SearchAttributeUpdate{StatusKey.ValueSet(status)}, also...)...); err != nil {
		workflow.GetLogger(ctx).Warn("Could not record the step", "status", status, "error", err)
	}
}
