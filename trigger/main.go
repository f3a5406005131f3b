// Command trigger serves Tandem's HTTP trigger API, for services that are not
// written in Go: start any workflow or agent run, read its status and
// result, submit decisions, list pending decisions (see api/openapi.yaml).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/tandemhq/tandem/api"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/health"
	"github.com/tandemhq/tandem/internal/logging"
	"github.com/tandemhq/tandem/internal/telemetry"
	"github.com/tandemhq/tandem/internal/temporalclient"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "trigger:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := config.FromEnv()
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		return healthcheck(cfg.TriggerAddr)
	}
	fs := flag.NewFlagSet("trigger", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	fs.StringVar(&cfg.TriggerAddr, "listen", cfg.TriggerAddr, "`address` to serve on (TANDEM_TRIGGER_ADDR)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if len(cfg.TriggerToken) < 16 {
		return errors.New("TANDEM_TRIGGER_TOKEN must be set to a secret of at least 16 characters; callers send it as a bearer token")
	}
	logger, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer logger.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tel, err := telemetry.Start(ctx, "trigger")
	if err != nil {
		return err
	}
	defer tel.ShutdownWithin(5 * time.Second)
	c, err := temporalclient.Dial(ctx, cfg, logger, tel)
	if err != nil {
		return err
	}
	defer c.Close()

	var mcpCallers map[string]string
	if cfg.MCPTokensFile != "" {
		if mcpCallers, err = api.LoadMCPCallers(cfg.MCPTokensFile); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Addr: cfg.TriggerAddr,
		Handler: (&api.Server{Client: api.NewClient(c, cfg.TaskQueue), Namespace: cfg.Namespace, Token: cfg.TriggerToken,
			UIURL: cfg.UIURL, Log: logger, Metrics: tel.MetricsHandler(), MCPCallers: mcpCallers}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("Tandem trigger API listening", zap.String("address", cfg.TriggerAddr), zap.String("taskQueue", cfg.TaskQueue))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", cfg.TriggerAddr, err)
	}
	return nil
}

// healthcheck asks the running trigger API's /readyz whether it is ready:
// the container health check of an image without a shell.
func healthcheck(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return health.Probe(ctx, addr)
}
