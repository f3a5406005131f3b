package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// heartbeatWhile records a heartbeat, with details when given, every
// interval until stopped, so that a worker that stops during a long call is
// noticed within the heartbeat timeout rather than the call's.
func heartbeatWhile(ctx context.Context, every time.Duration, details func() any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if details != nil {
					activity.RecordHeartbeat(ctx, details())
				} else {
					activity.RecordHeartbeat(ctx)
				}
			}
		}
	}()
	return func() { close(done) }
}
