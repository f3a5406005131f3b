// Command worker runs Tandem's Temporal workers: the workflows and business
// activities on one task queue, and the model calls to the local Ollama server
// on another, bounded to the server's parallelism.
package main

import (
	"context"
	"database/sql"
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
	"github.com/tandemhq/tandem/internal/logging"
	"github.com/tandemhq/tandem/internal/store"
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
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	fs.IntVar(&cfg.ModelParallel, "model-parallel", cfg.ModelParallel, "concurrent model calls (TANDEM_MODEL_PARALLEL)")
	fs.StringVar(&cfg.DBPath, "db", cfg.DBPath, "SQLite file of the business store (TANDEM_DB)")
	fs.StringVar(&cfg.SeedFile, "seed", cfg.SeedFile, "SQL `file` of sample data to load at start (TANDEM_SEED_FILE)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
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

	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.SeedFile != "" {
		if err := store.Seed(ctx, db, cfg.SeedFile); err != nil {
			return err
		}
	}

	c, err := temporalclient.Dial(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := workers.EnsureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return err
	}

	w, err := workers.Start(c, cfg, db, snap)
	if err != nil {
		return err
	}
	defer w.Stop()
	if cfg.CodecAddr != "" {
		stopCodec, err := serveCodec(cfg, logger)
		if err != nil {
			return err
		}
		defer stopCodec()
	}
	go keepRetention(ctx, db, time.Duration(snap.Policy.Retention.ModelOutputs), logger)
	logger.Info("Tandem worker started",
		zap.String("temporal", cfg.TemporalAddress), zap.String("namespace", cfg.Namespace),
		zap.String("taskQueue", cfg.TaskQueue), zap.String("modelTaskQueue", cfg.ModelTaskQueue),
		zap.String("ollama", cfg.OllamaHost), zap.String("model", cfg.Model),
		zap.Int("modelParallel", cfg.ModelParallel), zap.String("store", cfg.DBPath),
		zap.String("dataPolicy", snap.Source), zap.String("dataPolicyHash", snap.Hash))
	<-ctx.Done()
	logger.Info("Tandem worker stopping")
	return nil
}

// keepRetention deletes model outputs the data policy no longer keeps, at
// start and every hour.
func keepRetention(ctx context.Context, db *sql.DB, keep time.Duration, logger *zap.Logger) {
	if keep <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		p, err := store.PurgeModelOutputs(ctx, db, keep, time.Now())
		if err != nil {
			logger.Error("Retention pass failed", zap.Error(err))
		} else if p.AgentRuns+p.Redactions > 0 {
			logger.Info("Deleted model outputs past retention", zap.Duration("retention", keep),
				zap.Int64("agentRuns", p.AgentRuns), zap.Int64("redactions", p.Redactions))
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
	srv := &http.Server{Addr: addr, Handler: (&codec.Server{Keys: keys, UIOrigin: origin, Token: token}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve the codec endpoint on %s: %w", addr, err)
	}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("Codec endpoint for the Web UI", zap.String("address", addr), zap.String("uiOrigin", origin), zap.Bool("remote", cfg.CodecRemote))
	return func() { _ = srv.Close() }, nil
}
