package workflows

// Route is where a ticket goes and how soon it must be answered.
type Route struct {
	Queue      string `json:"queue"`
	SLAMinutes int    `json:"slaMinutes"`
}

// TriageQueue takes tickets no one could classify.
const TriageQueue = "triage"

// queueByCategory is the team that owns each ticket category.
var queueByCategory = map[string]string{
	"billing":   "billing",
	"technical": "tech-support",
	"account":   "accounts",
	"shipping":  "logistics",
	"returns":   "logistics",
	"feedback":  "customer-success",
	"other":     TriageQueue,
}

// slaByPriority is the answer deadline in minutes for each priority.
var slaByPriority = map[string]int{
	"urgent": 60,
	"high":   4 * 60,
	"normal": 24 * 60,
	"low":    3 * 24 * 60,
}

// RouteFor maps a category and priority to a queue and an SLA. Urgent
// technical tickets go to incident response; anything unknown goes to triage
// on the normal SLA.
func RouteFor(category, priority string) Route {
	queue, ok := queueByCategory[category]
	if !ok {
		queue = TriageQueue
	}
	if category == "technical" && priority == "urgent" {
		queue = "incident-response"
	}
	sla, ok := slaByPriority[priority]
	if !ok {
		sla = slaByPriority["normal"]
	}
	return Route{Queue: queue, SLAMinutes: sla}
}
