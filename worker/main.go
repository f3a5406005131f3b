// Command worker runs Tandem's Temporal workers: the workflows and business
// activities on one task queue, and the model calls to the local Ollama server
// on another, bounded to the server's parallelism.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/localonly"
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
	// Business data goes to the model: refuse a server that is not local
	// before anything starts.
	if err := localonly.Check(context.Background(), cfg.OllamaHost, cfg.ModelEndpoints); err != nil {
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

	w, err := workers.Start(c, cfg, db)
	if err != nil {
		return err
	}
	defer w.Stop()
	logger.Info("Tandem worker started",
		zap.String("temporal", cfg.TemporalAddress), zap.String("namespace", cfg.Namespace),
		zap.String("taskQueue", cfg.TaskQueue), zap.String("modelTaskQueue", cfg.ModelTaskQueue),
		zap.String("ollama", cfg.OllamaHost), zap.String("model", cfg.Model),
		zap.Int("modelParallel", cfg.ModelParallel), zap.String("store", cfg.DBPath))
	<-ctx.Done()
	logger.Info("Tandem worker stopping")
	return nil
}
