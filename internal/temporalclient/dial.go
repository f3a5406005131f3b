// Package temporalclient dials the Temporal server the way every Tandem
// process does: zap logging, and an error that says what to do.
package temporalclient

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/codec"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/logging"
	"github.com/tandemhq/tandem/internal/sandbox"
	"github.com/tandemhq/tandem/internal/telemetry"
)

// Dial connects to the Temporal server in cfg and checks that it answers.
// The connection comes from the Temporal SDK's environment configuration
// (a profile in temporal.toml, TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE,
// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*),
// so the same binaries reach a dev server, an mTLS cluster or Temporal
// Cloud; an address or namespace given as a flag wins. With codec keys
// configured (TANDEM_CODEC_KEYS or TANDEM_CODEC_KEY_FILE), every payload it
// sends is encrypted.
//
// With tel, the client reports the SDK's metrics into it, and carries
// traces from a start through the workflow to its activities when tracing
// is on; a nil tel sends neither.
func Dial(ctx context.Context, cfg config.Config, logger *zap.Logger, tel *telemetry.Telemetry) (client.Client, error) {
	opts, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	if tel != nil {
		if err := tel.ClientOptions(&opts); err != nil {
			return nil, err
		}
	}
	opts.Logger = logging.ForTemporal(logger)
	// Carries a run's sandbox flag to its activities and children.
	opts.ContextPropagators = []workflow.ContextPropagator{sandbox.Propagator{}}
	if opts.DataConverter, opts.FailureConverter, err = Converters(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("the Temporal server at %s is not answering (%v); start it with `make run`, or set TEMPORAL_ADDRESS", opts.HostPort, err)
	}
	return c, nil
}

// Converters are the payload and failure converters of every Tandem
// process: encrypting with the codec keys when there are any
// (TANDEM_CODEC_KEYS, TANDEM_CODEC_KEY_FILE), and otherwise refusing, in a
// sentence, payloads that were encrypted.
func Converters() (converter.DataConverter, converter.FailureConverter, error) {
	keys, err := codec.LoadKeys()
	if err != nil {
		return nil, nil, err
	}
	if keys != nil {
		return keys.DataConverter(), keys.FailureConverter(), nil
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec.Locked{}), nil, nil
}

// Options are the connection options for cfg: the SDK's environment
// configuration, with cfg's address and namespace where they were set
// apart from it (by a flag, or as Tandem's defaults where it sets none).
func Options(cfg config.Config) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{})
	if err != nil {
		return opts, fmt.Errorf("the Temporal connection settings cannot be read (%v); check temporal.toml, TEMPORAL_PROFILE and the TEMPORAL_* variables", err)
	}
	if opts.HostPort == "" || cfg.TemporalAddress != config.DefaultTemporalAddress {
		opts.HostPort = cfg.TemporalAddress
	}
	if opts.Namespace == "" || cfg.Namespace != config.DefaultNamespace {
		opts.Namespace = cfg.Namespace
	}
	if opts.ConnectionOptions.GrpcCompression == nil {
		opts.ConnectionOptions.GrpcCompression = Compression(opts.HostPort)
	}
	return opts, nil
}

// Compression is how a Tandem process compresses its requests to the
// Temporal server at hostPort. The SDK gzips every request by default, and
// the server answers in kind; to a server on this machine that only spends
// the CPU the two share (about a tenth of a worker's, measured under load),
// so there it is none. Elsewhere it is nil: the SDK's gzip.
func Compression(hostPort string) client.GrpcCompression {
	if onLoopback(hostPort) {
		return &client.GrpcCompressionNone{}
	}
	return nil
}

// onLoopback reports whether hostPort names this machine.
func onLoopback(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
