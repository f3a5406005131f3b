// Command worker runs Tandem's Temporal workers: the workflows and business
// activities on one task queue, and the model calls to the local Ollama server
// on another, bounded to the server's parallelism.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/codec"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/logging"
	"github.com/tandemhq/tandem/internal/policy"
	"github.com/tandemhq/tandem/internal/store"
	"github.com/tandemhq/tandem/internal/telemetry"
	"github.com/tandemhq/tandem/internal/temporalclient"
	"github.com/tandemhq/tandem/internal/workers"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := config.FromEnv()
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		return healthcheck(cfg.HealthAddr)
	}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	fs.IntVar(&cfg.ModelParallel, "model-parallel", cfg.ModelParallel, "concurrent model calls (TANDEM_MODEL_PARALLEL)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "business store: an SQLite `file`, or a postgres:// URL (TANDEM_DB)")
	fs.StringVar(&cfg.Role, "role", cfg.Role, "what the worker polls: all, workflows or model (TANDEM_WORKER_ROLE)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long a stopping worker lets running activities finish (TANDEM_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&cfg.HealthAddr, "health", cfg.HealthAddr, "`address` to serve /healthz, /readyz and /metrics on (TANDEM_HEALTH_ADDR)")
	fs.StringVar(&cfg.SeedFile, "seed", cfg.SeedFile, "SQL `file` of sample data to load at start (TANDEM_SEED_FILE)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	target, err := store.ParseTarget(cfg.DB)
	if err != nil {
		return err
	}
	if cfg.Role == config.RoleModel && !target.Postgres {
		return fmt.Errorf("a model worker on its own keeps redaction mappings and agent transcripts in the shared store, not in the file %s; set TANDEM_DB to the postgres:// URL the workflow workers use", target.Source)
	}
	// The data policy must be sound, and the model server one it allows,
	// before anything starts.
	snap, err := workers.Preflight(context.Background(), cfg)
	if err != nil {
		return err
	}
	logger, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer logger.Sync()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	records, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer records.Close()
	if cfg.SeedFile != "" {
		if err := records.Seed(ctx, cfg.SeedFile); err != nil {
			return err
		}
	}

	tel, err := telemetry.Start(ctx, "worker")
	if err != nil {
		return err
	}
	defer tel.ShutdownWithin(5 * time.Second)
	c, err := temporalclient.Dial(ctx, cfg, logger, tel)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := workers.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return err
	}

	w, err := workers.Start(c, cfg, records, snap, tel)
	if err != nil {
		return err
	}
	defer func() {
		logger.Info("Tandem worker stopping: no new tasks; running activities may finish",
			zap.Duration("shutdownTimeout", cfg.ShutdownTimeout))
		w.Stop()
		logger.Info("Tandem worker stopped")
	}()
	if cfg.HealthAddr != "" {
		ops := http.NewServeMux()
		health.Register(ops, w.Ready)
		ops.Handle("GET /metrics", tel.MetricsHandler())
		stopHealth, err := serve("health checks and metrics", cfg.HealthAddr, ops, logger)
		if err != nil {
			return err
		}
		defer stopHealth()
	}
	if cfg.CodecAddr != "" {
		stopCodec, err := serveCodec(cfg, logger)
		if err != nil {
			return err
		}
		defer stopCodec()
	}
	if w.MCPServers != nil {
		for _, line := range w.MCPServers(ctx) {
			logger.Warn(line)
		}
	}
	if cfg.Role != config.RoleModel {
		go keepRetention(ctx, records, snap.Policy.Retention, logger)
	}
	logger.Info("Tandem worker started",
		zap.String("temporal", cfg.TemporalAddress), zap.String("namespace", cfg.Namespace),
		zap.String("taskQueue", cfg.TaskQueue), zap.String("modelTaskQueue", cfg.ModelTaskQueue),
		zap.String("ollama", cfg.OllamaHost), zap.String("model", cfg.Model),
		zap.String("role", cfg.Role), zap.Int("modelParallel", cfg.ModelParallel),
		zap.String("store", records.Backend()+" "+records.Location()),
		zap.String("dataPolicy", snap.Source), zap.String("dataPolicyHash", snap.Hash), zap.Bool("tracing", tel.Tracing()))
	<-ctx.Done()
	return nil
}

// keepRetention deletes model outputs the data policy no longer keeps, at
// start and every hour.
func keepRetention(ctx context.Context, records *store.Store, rules policy.Retention, logger *zap.Logger) {
	keep, keepMemory := time.Duration(rules.ModelOutputs), time.Duration(rules.Memory)
	if keep <= 0 && keepMemory <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		p, err := records.PurgeModelOutputs(ctx, keep, time.Now())
		if err != nil {
			logger.Error("Retention pass failed", zap.Error(err))
		} else if p.AgentRuns+p.Redactions > 0 {
			logger.Info("Deleted model outputs past retention", zap.Duration("retention", keep),
				zap.Int64("agentRuns", p.AgentRuns), zap.Int64("redactions", p.Redactions))
		}
		if n, err := records.PurgeMemory(ctx, keepMemory, time.Now()); err != nil {
			logger.Error("Retention pass over agent memory failed", zap.Error(err))
		} else if n > 0 {
			logger.Info("Deleted remembered facts past retention", zap.Duration("retention", keepMemory), zap.Int64("facts", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveCodec serves the codec endpoint the Web UI uses to show decrypted
// payloads: only with a token, and on loopback unless TANDEM_CODEC_REMOTE
// says otherwise.
func serveCodec(cfg config.Config, logger *zap.Logger) (stop func(), err error) {
	addr, token := cfg.CodecAddr, cfg.CodecToken
	keys, err := codec.LoadKeys()
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, errors.New("TANDEM_CODEC_ADDR is set but there are no codec keys; set TANDEM_CODEC_KEYS or TANDEM_CODEC_KEY_FILE")
	}
	if token == "" && cfg.CodecTokenFile != "" {
		return nil, fmt.Errorf("TANDEM_CODEC_TOKEN_FILE %s cannot be read or is empty; write the codec token into it, or unset TANDEM_CODEC_ADDR", cfg.CodecTokenFile)
	}
	if token == "" {
		return nil, errors.New("the codec endpoint decrypts payloads, so it needs a token; set TANDEM_CODEC_TOKEN or TANDEM_CODEC_TOKEN_FILE (make run makes one), or unset TANDEM_CODEC_ADDR")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("TANDEM_CODEC_ADDR %q is not host:port", addr)
	}
	if ip, perr := netip.ParseAddr(host); !cfg.CodecRemote && (perr != nil || !ip.IsLoopback()) && host != "localhost" {
		return nil, fmt.Errorf("TANDEM_CODEC_ADDR %s is not a loopback address; the codec endpoint serves on loopback unless TANDEM_CODEC_REMOTE=true", addr)
	}
	origin := cfg.UIURL
	if u, err := url.Parse(cfg.UIURL); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	logger.Info("Codec endpoint for the Web UI", zap.String("uiOrigin", origin), zap.Bool("remote", cfg.CodecRemote))
	return serve("the codec endpoint", addr, (&codec.Server{Keys: keys, UIOrigin: origin, Token: token}).Handler(), logger)
}

// serve serves handler on addr until the returned stop is called.
func serve(what, addr string, handler http.Handler, logger *zap.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve %s on %s: %w", what, addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("Serving "+what, zap.String("address", ln.Addr().String()))
	return func() { _ = srv.Close() }, nil
}

// healthcheck asks the running worker's /readyz whether it is ready: the
// container health check of an image without a shell.
func healthcheck(addr string) error {
	if addr == "" {
		return errors.New("TANDEM_HEALTH_ADDR is not set, so the worker serves no health checks; set it, for example to 0.0.0.0:8091")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return health.Probe(ctx, addr)
}
