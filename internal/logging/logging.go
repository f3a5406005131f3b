// Package logging builds Tandem's zap logger and adapts it to the Temporal
// SDK's log.Logger, so that SDK, worker and activity logs share one format.
package logging

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a console zap logger at level ("debug", "info", "warn", "error").
func New(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q is not one of debug, info, warn, error", level)
	}
	cfg := zap.NewDevelopmentConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = true
	cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	return cfg.Build()
}

// Temporal adapts a zap logger to the Temporal SDK's log.Logger.
type Temporal struct{ z *zap.SugaredLogger }

var (
	_ log.Logger     = Temporal{}
	_ log.WithLogger = Temporal{}
)

// ForTemporal wraps z for client.Options.Logger.
func ForTemporal(z *zap.Logger) Temporal {
	return Temporal{z: z.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

// Debug logs at debug level with alternating keys and values.
func (t Temporal) Debug(msg string, keyvals ...any) { t.z.Debugw(msg, keyvals...) }

// Info logs at info level with alternating keys and values.
func (t Temporal) Info(msg string, keyvals ...any) { t.z.Infow(msg, keyvals...) }

// Warn logs at warn level with alternating keys and values.
func (t Temporal) Warn(msg string, keyvals ...any) { t.z.Warnw(msg, keyvals...) }

// Error logs at error level with alternating keys and values.
func (t Temporal) Error(msg string, keyvals ...any) { t.z.Errorw(msg, keyvals...) }

// With returns a logger that adds keyvals to every entry.
func (t Temporal) With(keyvals ...any) log.Logger { return Temporal{z: t.z.With(keyvals...)} }
