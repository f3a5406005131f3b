package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Search attributes Tandem sets on its runs, so the Web UI and `starter list`
// can find them by kind, step and business key.
var (
	KindKey     = temporal.NewSearchAttributeKeyKeyword("TandemKind")
	StatusKey   = temporal.NewSearchAttributeKeyKeyword("TandemStatus")
	CustomerKey = temporal.NewSearchAttributeKeyKeyword("TandemCustomer")
	CategoryKey = temporal.NewSearchAttributeKeyKeyword("TandemCategory")
	QueueKey    = temporal.NewSearchAttributeKeyKeyword("TandemQueue")
	EmployeeKey = temporal.NewSearchAttributeKeyKeyword("TandemEmployee")
	WaitingKey  = temporal.NewSearchAttributeKeyBool("TandemWaiting")
	SandboxKey  = temporal.NewSearchAttributeKeyBool("TandemSandbox")
	// InputDigestKey identifies a run's input (a hash), so that a start
	// under a taken idempotency key with another input is refused.
	InputDigestKey = temporal.NewSearchAttributeKeyKeyword("TandemInputDigest")
)

// SearchAttributes lists every search attribute above with its type, for the
// worker to register on the namespace at start.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	KindKey.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	StatusKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	CustomerKey.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	CategoryKey.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	QueueKey.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	EmployeeKey.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	WaitingKey.GetName():     enumspb.INDEXED_VALUE_TYPE_BOOL,
	SandboxKey.GetName():     enumspb.INDEXED_VALUE_TYPE_BOOL,
	InputDigestKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// setStep records the run's current step in the Web UI (search attribute and
// current details) and in the workflow log.
func setStep(ctx workflow.Context, status, details string, also ...temporal.SearchAttributeUpdate) {
	workflow.SetCurrentDetails(ctx, details)
	if err := workflow.UpsertTypedSearchAttributes(ctx, append([]temporal.SearchAttributeUpdate{StatusKey.ValueSet(status)}, also...)...); err != nil {
		workflow.GetLogger(ctx).Warn("Could not record the step", "status", status, "error", err)
	}
}
