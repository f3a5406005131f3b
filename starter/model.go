package main

import (
	"context"
	"io"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/modelsetup"
)

// ensureModel makes sure the configured model is on the Ollama server: it is
// there already, or it is imported from TANDEM_MODEL_FILE, or it is pulled.
func ensureModel(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlagSet("model", "", &cfg)
	file := fs.String("file", cfg.ModelFile, "GGUF `file` to import as the model when it is missing (TANDEM_MODEL_FILE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return modelsetup.Ensure(ctx, cfg.OllamaHost, cfg.Model, *file, out)
}
