// Package modelsetup makes sure a model is on an Ollama server before Tandem
// uses it: already there, imported from a local GGUF file (how air-gapped
// sites bring models), or pulled from the registry.
package modelsetup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ollama/ollama/api"
)

// Ensure makes sure model is on the Ollama server at host. With file set and
// the model missing, it imports the GGUF file under the model's name;
// otherwise it pulls the model, printing progress to out.
func Ensure(ctx context.Context, host, model, file string, out io.Writer) error {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return fmt.Errorf("OLLAMA_HOST %q is not a URL; set it like http://127.0.0.1:11434", host)
	}
	ollama := api.NewClient(u, &http.Client{})

	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := ollama.Version(pingCtx); err != nil {
		return fmt.Errorf("the Ollama server at %s is not answering; start it with `ollama serve`, or set OLLAMA_HOST", host)
	}
	if show, err := ollama.Show(ctx, &api.ShowRequest{Model: model}); err == nil {
		fmt.Fprintf(out, "Model %s is ready on %s (%s, %s).\n", model, host, show.Details.Family, show.Details.ParameterSize)
		return nil
	}
	if file != "" {
		return importGGUF(ctx, ollama, host, model, file, out)
	}
	fmt.Fprintf(out, "Pulling model %s into %s…\n", model, host)
	progress := &pullProgress{out: out}
	err = ollama.Pull(ctx, &api.PullRequest{Model: model}, progress.update)
	progress.done()
	if err != nil {
		return fmt.Errorf("model %s is not on the Ollama server at %s and could not be pulled (%v); run `ollama pull %s` on a machine with internet, or set TANDEM_MODEL_FILE to a GGUF file of the model",
			model, host, err, model)
	}
	fmt.Fprintf(out, "Model %s is ready.\n", model)
	return nil
}

// importGGUF uploads a local GGUF file to the Ollama server and creates the
// model from it, the way `ollama create` does.
func importGGUF(ctx context.Context, ollama *api.Client, host, model, path string, out io.Writer) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return (fmt.Errorf("TANDEM_MODEL_FILE %s does not exist; point it at a GGUF model file", path))
	} else if err != nil {
		return (fmt.Errorf("cannot read TANDEM_MODEL_FILE %s: %v", path, err))
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "GGUF" {
		return (fmt.Errorf("TANDEM_MODEL_FILE %s is not a GGUF model file; point it at a .gguf file", path))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	digest := fmt.Sprintf("sha256:%x", h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	fmt.Fprintf(out, "Importing %s as model %s…\n", path, model)
	if err := ollama.CreateBlob(ctx, digest, f); err != nil {
		return fmt.Errorf("upload %s to the Ollama server at %s: %w", path, host, err)
	}
	err = ollama.Create(ctx, &api.CreateRequest{
		Model: model,
		Files: map[string]string{filepath.Base(path): digest},
	}, func(api.ProgressResponse) error { return nil })
	if err != nil {
		return fmt.Errorf("the Ollama server at %s could not create model %s from %s: %w", host, model, path, err)
	}
	fmt.Fprintf(out, "Model %s is ready (%s).\n", model, digest[:19])
	return nil
}

// pullProgress prints a pull's progress at most once a second.
type pullProgress struct {
	out  io.Writer
	last time.Time
}

func (p *pullProgress) update(r api.ProgressResponse) error {
	if time.Since(p.last) < time.Second {
		return nil
	}
	p.last = time.Now()
	if r.Total > 0 {
		fmt.Fprintf(p.out, "\r  %s: %5.1f%% of %d MB ", r.Status, 100*float64(r.Completed)/float64(r.Total), r.Total>>20)
	} else {
		fmt.Fprintf(p.out, "\r  %s ", r.Status)
	}
	return nil
}

func (p *pullProgress) done() {
	if !p.last.IsZero() {
		fmt.Fprintln(p.out)
	}
}
