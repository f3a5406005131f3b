// Command goclient shows how a Go service uses Tandem: it starts a ticket
// routing with an idempotency key, approves the draft if a person must review
// it, and prints the result. Run it against `make run`:
//
//	go run ./examples/goclient
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/runs"
	"github.com/tandemhq/tandem/workflows"
)

func main() {
	c, err := client.Dial(client.Options{HostPort: envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233")})
	if err != nil {
		log.Fatalf("dial Temporal: %v", err)
	}
	defer c.Close()
	tandem := api.NewClient(c, "tandem")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The same key always names the same run: a retry never routes twice.
	id := api.WorkflowID("ticket-routing", fmt.Sprintf("helpdesk-%d", time.Now().Unix()))
	run, err := tandem.StartTicketRouting(ctx, id, workflows.TicketRoutingInput{Ticket: workflows.Ticket{
		Subject: "Invoice shows the wrong VAT", Body: "Our invoice 2024-118 charges 21% VAT instead of 19%.",
		Customer: "Globex", Channel: "email",
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("started", run.ID)

	// Risky drafts wait for a reviewer; approve the draft when asked.
	for {
		st, err := run.Status(ctx)
		if err == nil && st.Pending != nil {
			fmt.Println("waiting:", st.Pending.Question)
			if err := run.Decide(ctx, runs.Decision{Approve: true, By: st.Pending.Approvers[0]}); err != nil {
				log.Fatal(err)
			}
		}
		if err == nil && (st.Step == "done" || st.Pending != nil) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	res, err := run.Result(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("routed to %s (SLA %d min), reply sent: %t\n", res.Route.Queue, res.Route.SLAMinutes, res.Review != nil && res.Review.Sent)
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
