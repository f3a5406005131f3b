package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/ollama/ollama/api"
	"go.temporal.io/sdk/temporal"
)

// Error types of model calls, as Temporal application error types. Retry
// policies and workflows match on them.
const (
	ErrModelUnreachable    = "ModelUnreachable"    // retryable: Ollama is not answering
	ErrModelBusy           = "ModelBusy"           // retryable: 503, Ollama's queue is full
	ErrModelServer         = "ModelServerError"    // retryable: other 5xx
	ErrModelTimeout        = "ModelTimeout"        // retryable: the call exceeded its bound
	ErrModelCutOff         = "ModelAnswerCutOff"   // retryable: the answer stream ended before the model finished
	ErrModelNotFound       = "ModelNotFound"       // non-retryable: pull or import the model
	ErrModelBadRequest     = "ModelBadRequest"     // non-retryable: the request is wrong
	ErrModelContextTooLong = "ModelContextTooLong" // non-retryable: prompt exceeds num_ctx
	ErrModelInvalidAnswer  = "ModelInvalidAnswer"  // non-retryable: the answer never validated
	// ErrModelEndpointRefused: non-retryable; the model server is not local.
	ErrModelEndpointRefused = "ModelEndpointRefused"
)

// NonRetryableModelErrors lists the model error types a retry cannot fix.
var NonRetryableModelErrors = []string{
	ErrModelNotFound, ErrModelBadRequest, ErrModelContextTooLong, ErrModelInvalidAnswer, ErrModelEndpointRefused,
}

// classify turns an error from the Ollama client into a Temporal application
// error whose type says whether a retry can help and whose message says what
// to do.
func (m *Model) classify(ctx context.Context, err error, model string) error {
	var status api.StatusError
	switch {
	case errors.As(err, &status):
		return classifyStatus(status, model, m.host)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return temporal.NewApplicationError(fmt.Sprintf(
			"model %s did not answer within %s; a cold model load can be slow, so raise TANDEM_MODEL_TIMEOUT or use a smaller model",
			model, m.timeout), ErrModelTimeout, err)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, errCutOff):
		return temporal.NewApplicationError(fmt.Sprintf(
			"the Ollama server at %s stopped in the middle of an answer from %s; the call will be retried", m.host, model),
			ErrModelCutOff, err)
	case isUnreachable(err):
		return temporal.NewApplicationError(fmt.Sprintf(
			"the Ollama server at %s is not answering; start it with `ollama serve` or set OLLAMA_HOST", m.host),
			ErrModelUnreachable, err)
	case strings.Contains(err.Error(), "not found"):
		return modelNotFound(model, m.host, err)
	default:
		return temporal.NewApplicationError(fmt.Sprintf("the model call to %s failed: %v", m.host, err), ErrModelServer, err)
	}
}

func classifyStatus(s api.StatusError, model, host string) error {
	msg := strings.TrimSpace(s.ErrorMessage)
	switch {
	case s.StatusCode == http.StatusNotFound:
		return modelNotFound(model, host, s)
	case s.StatusCode == http.StatusServiceUnavailable:
		return temporal.NewApplicationError(fmt.Sprintf(
			"the Ollama server at %s is busy (%s); the call will be retried", host, msg), ErrModelBusy, s)
	case s.StatusCode >= 500:
		return temporal.NewApplicationError(fmt.Sprintf(
			"the Ollama server at %s failed (%d: %s); the call will be retried", host, s.StatusCode, msg), ErrModelServer, s)
	case strings.Contains(strings.ToLower(msg), "context"):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the prompt is too long for model %s (%s); shorten the input or raise the context size", model, msg),
			ErrModelContextTooLong, s)
	default:
		return badRequest(fmt.Sprintf("the Ollama server at %s refused the call to %s (%d: %s)", host, model, s.StatusCode, msg))
	}
}

func modelNotFound(model, host string, cause error) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"model %s is not on the Ollama server at %s; run `ollama pull %s`, or set TANDEM_MODEL_FILE to a GGUF file and run `make run`",
		model, host, model), ErrModelNotFound, cause)
}

func badRequest(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrModelBadRequest, nil)
}

func contextTooLong(model string, estimated, contextSize int) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"the prompt for model %s is about %d tokens, over its %d-token context; shorten the input or raise the context size",
		model, estimated, contextSize), ErrModelContextTooLong, nil)
}

func invalidAnswer(model, purpose string, tries int, cause error) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"model %s gave no usable answer to %q in %d tries (%v); try a more capable model with TANDEM_MODEL",
		model, purpose, tries, cause), ErrModelInvalidAnswer, nil)
}

func isUnreachable(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
