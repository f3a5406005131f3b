package main

import (
	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/internal/modelsetup"
)

// modelCmd makes sure the configured model is on the Ollama server: it is
// there already, or it is imported from a GGUF file, or it is pulled.
func modelCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "model",
		Short:   "Make sure the configured model is on the Ollama server (pull or import it)",
		Example: "  starter model\n  TANDEM_MODEL=llama3.2:3b starter model\n  starter model --file ./qwen2.5-3b.gguf",
		Args:    args(0, 0, "model takes no arguments; name the model with --model or TANDEM_MODEL"),
	}
	file := cmd.Flags().String("file", a.cfg.ModelFile, "GGUF `file` to import as the model when it is missing (TANDEM_MODEL_FILE)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return modelsetup.Ensure(cmd.Context(), a.cfg.OllamaHost, a.cfg.Model, *file, cmd.OutOrStdout())
	}
	return cmd
}
