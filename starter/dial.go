package main

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/telemetry"
	"github.com/tandemhq/tandem/internal/temporalclient"
)

var (
	tracingOnce sync.Once
	tracing     *telemetry.Telemetry // set when OTEL_EXPORTER_OTLP_* asks for traces
	tracingErr  error
)

// dial connects to Temporal for one command. When the environment asks for
// traces, a start begins its trace here, in the starter.
func dial(ctx context.Context, cfg config.Config) (client.Client, error) {
	tracingOnce.Do(func() {
		if telemetry.TracingOn() {
			tracing, tracingErr = telemetry.Start(ctx, "starter")
		}
	})
	if tracingErr != nil {
		return nil, tracingErr
	}
	return temporalclient.Dial(ctx, cfg, zap.NewNop(), tracing)
}

// flushTraces sends the spans a command made before the starter exits.
func flushTraces() {
	if tracing != nil {
		tracing.ShutdownWithin(5 * time.Second)
	}
}
