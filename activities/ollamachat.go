package activities

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ollama/ollama/api"
)

// chatStream speaks Ollama's streaming /api/chat as api.Client.Chat does,
// with its types and errors (api.StatusError for an HTTP error), with one
// difference: its line buffer starts at 64 KB and grows to the client's
// 8 MB limit only for a line that long. api.Client allocates and clears an
// 8 MB buffer for every request, which is most of a model call's cost when
// the model answers at once (docs/BENCHMARKS.md, "Orchestration cost per
// agent step"). It talks to local servers only, so it has no ollama.com
// sign-in.
type chatStream struct {
	base *url.URL
	http *http.Client
}

// maxStreamLine is the longest line of a stream, as api.Client allows.
const maxStreamLine = 8 << 20

// Chat sends req and calls fn with each response of the stream.
func (c chatStream) Chat(ctx context.Context, req *api.ChatRequest, fn api.ChatResponseFunc) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode the chat request: %w", err)
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath("/api/chat").String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("Accept", "application/x-ndjson")
	request.Header.Set("User-Agent", "tandem")
	response, err := c.http.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	lines := bufio.NewScanner(response.Body)
	lines.Buffer(make([]byte, 0, 64<<10), maxStreamLine)
	for lines.Scan() {
		var line struct {
			api.ChatResponse
			Error string `json:"error,omitempty"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			if response.StatusCode >= http.StatusBadRequest {
				return api.StatusError{StatusCode: response.StatusCode, Status: response.Status, ErrorMessage: lines.Text()}
			}
			return errors.New(lines.Text())
		}
		switch {
		case response.StatusCode >= http.StatusBadRequest:
			return api.StatusError{StatusCode: response.StatusCode, Status: response.Status, ErrorMessage: line.Error}
		case line.Error != "":
			return errors.New(line.Error)
		}
		if err := fn(line.ChatResponse); err != nil {
			return err
		}
	}
	if errors.Is(lines.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("a line of the model's answer is over %d MB", maxStreamLine>>20)
	}
	return nil // a stream cut short is noticed by the caller: no response said done
}
