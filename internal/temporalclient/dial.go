// Package temporalclient dials the Temporal server the way every Tandem
// process does: zap logging, and an error that says what to do.
package temporalclient

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/codec"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/logging"
	"github.com/tandemhq/tandem/internal/sandbox"
)

// Dial connects to the Temporal server in cfg and checks that it answers.
// With codec keys configured (TANDEM_CODEC_KEYS or TANDEM_CODEC_KEY_FILE),
// every payload it sends is encrypted.
func Dial(ctx context.Context, cfg config.Config, logger *zap.Logger) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	opts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    logging.ForTemporal(logger),
		// Carries a run's sandbox flag to its activities and children.
		ContextPropagators: []workflow.ContextPropagator{sandbox.Propagator{}},
	}
	keys, err := codec.LoadKeys()
	if err != nil {
		return nil, err
	}
	if keys != nil {
		opts.DataConverter, opts.FailureConverter = keys.DataConverter(), keys.FailureConverter()
	} else {
		opts.DataConverter = converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec.Locked{})
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("the Temporal server at %s is not answering (%v); start it with `make run`, or set TEMPORAL_ADDRESS", cfg.TemporalAddress, err)
	}
	return c, nil
}
