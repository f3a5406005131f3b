// Package config holds Tandem's runtime configuration: one struct, filled from
// environment variables and overridable by command-line flags, shared by the
// worker, the starter and the tests.
package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultModel is the model users pull for real work: small enough for a
// laptop CPU, local, multilingual and reliable with JSON-schema answers.
const DefaultModel = "qwen2.5:3b"

// Tandem's defaults for the Temporal connection, where neither the
// environment nor the SDK's temporal.toml profile sets one.
const (
	DefaultTemporalAddress = "127.0.0.1:7233"
	DefaultNamespace       = "default"
)

// The roles a worker process takes: workflows polls the workflows and
// business activities, model the model calls, and all both.
const (
	RoleAll       = "all"
	RoleWorkflows = "workflows"
	RoleModel     = "model"
)

// Config is the configuration every Tandem process reads.
type Config struct {
	TemporalAddress string        // TEMPORAL_ADDRESS: host:port of the Temporal frontend
	Namespace       string        // TEMPORAL_NAMESPACE
	TaskQueue       string        // TANDEM_TASK_QUEUE: workflows and business activities
	ModelTaskQueue  string        // TANDEM_MODEL_TASK_QUEUE: model calls, one queue per Ollama server
	OllamaHost      string        // OLLAMA_HOST: base URL of the Ollama server
	Model           string        // TANDEM_MODEL: model name on the Ollama server
	ModelFile       string        // TANDEM_MODEL_FILE: GGUF file to import the model from
	ModelEndpoints  []string      // TANDEM_MODEL_ENDPOINTS: model servers allowed besides loopback and private addresses
	ModelParallel   int           // TANDEM_MODEL_PARALLEL: concurrent model calls per worker
	ModelTimeout    time.Duration // TANDEM_MODEL_TIMEOUT: bound on one model call, cold load included
	ModelKeepAlive  time.Duration // TANDEM_MODEL_KEEP_ALIVE: how long Ollama keeps the model loaded after a call
	DB              string        // TANDEM_DB: the business store: an SQLite file, or a postgres:// URL
	Role            string        // TANDEM_WORKER_ROLE: all, workflows or model
	ShutdownTimeout time.Duration // TANDEM_SHUTDOWN_TIMEOUT: how long a stopping worker lets running activities finish
	HealthAddr      string        // TANDEM_HEALTH_ADDR: where the worker serves /healthz and /readyz; empty: nowhere
	SeedFile        string        // TANDEM_SEED_FILE: SQL file of sample data the worker loads at start
	ReportsDir      string        // TANDEM_REPORTS_DIR: folder compliance reports are written to
	CorpusDir       string        // TANDEM_CORPUS_DIR: folder of Markdown documents the agent searches
	UIURL           string        // TANDEM_UI_URL: Temporal Web UI base URL, for links
	LogLevel        string        // TANDEM_LOG_LEVEL: debug, info, warn, error
	TriggerAddr     string        // TANDEM_TRIGGER_ADDR: where the HTTP trigger API listens
	TriggerToken    string        // TANDEM_TRIGGER_TOKEN: the HTTP trigger API's bearer token
	MCPTokensFile   string        // TANDEM_MCP_TOKENS_FILE: the trigger's MCP endpoint's callers, NAME TOKEN per line
	CodecAddr       string        // TANDEM_CODEC_ADDR: where the worker serves the Web UI's codec endpoint; empty: nowhere
	CodecToken      string        // TANDEM_CODEC_TOKEN, or the file TANDEM_CODEC_TOKEN_FILE names: the codec endpoint's token
	CodecTokenFile  string        // TANDEM_CODEC_TOKEN_FILE
	CodecRemote     bool          // TANDEM_CODEC_REMOTE=true: serve the codec endpoint off loopback too
	PolicyFile      string        // TANDEM_POLICY_FILE: the data policy (YAML); empty: the built-in default
	ProfilesDir     string        // TANDEM_PROFILES_DIR: agent profiles (YAML) besides the built-in ones
}

// FromEnv returns the configuration from the environment, with defaults for
// everything unset.
func FromEnv() Config {
	return Config{
		TemporalAddress: env("TEMPORAL_ADDRESS", DefaultTemporalAddress),
		Namespace:       env("TEMPORAL_NAMESPACE", DefaultNamespace),
		TaskQueue:       env("TANDEM_TASK_QUEUE", "tandem"),
		ModelTaskQueue:  env("TANDEM_MODEL_TASK_QUEUE", "tandem-model"),
		OllamaHost:      OllamaURL(env("OLLAMA_HOST", "127.0.0.1:11434")),
		Model:           env("TANDEM_MODEL", modelNameOf(env("TANDEM_MODEL_FILE", ""))),
		ModelFile:       env("TANDEM_MODEL_FILE", ""),
		ModelEndpoints:  list(env("TANDEM_MODEL_ENDPOINTS", "")),
		ModelParallel:   envInt("TANDEM_MODEL_PARALLEL", 2),
		ModelTimeout:    envDuration("TANDEM_MODEL_TIMEOUT", 5*time.Minute),
		ModelKeepAlive:  envDuration("TANDEM_MODEL_KEEP_ALIVE", 30*time.Minute),
		DB:              env("TANDEM_DB", ".tandem/data/tandem.db"),
		Role:            env("TANDEM_WORKER_ROLE", RoleAll),
		ShutdownTimeout: envDuration("TANDEM_SHUTDOWN_TIMEOUT", 30*time.Second),
		HealthAddr:      env("TANDEM_HEALTH_ADDR", ""),
		SeedFile:        env("TANDEM_SEED_FILE", ""),
		ReportsDir:      env("TANDEM_REPORTS_DIR", "reports"),
		CorpusDir:       env("TANDEM_CORPUS_DIR", "testdata/corpus"),
		UIURL:           strings.TrimRight(env("TANDEM_UI_URL", "http://localhost:8233"), "/"),
		LogLevel:        env("TANDEM_LOG_LEVEL", "info"),
		TriggerAddr:     env("TANDEM_TRIGGER_ADDR", "127.0.0.1:8088"),
		TriggerToken:    env("TANDEM_TRIGGER_TOKEN", ""),
		MCPTokensFile:   env("TANDEM_MCP_TOKENS_FILE", ""),
		CodecAddr:       env("TANDEM_CODEC_ADDR", ""),
		CodecToken:      env("TANDEM_CODEC_TOKEN", fileText(env("TANDEM_CODEC_TOKEN_FILE", ""))),
		CodecTokenFile:  env("TANDEM_CODEC_TOKEN_FILE", ""),
		CodecRemote:     env("TANDEM_CODEC_REMOTE", "") == "true",
		PolicyFile:      env("TANDEM_POLICY_FILE", ""),
		ProfilesDir:     env("TANDEM_PROFILES_DIR", ""),
	}
}

// RegisterFlags binds the flags that override the environment to fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "address", c.TemporalAddress, "Temporal frontend `host:port` (TEMPORAL_ADDRESS)")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "Temporal namespace (TEMPORAL_NAMESPACE)")
	fs.StringVar(&c.TaskQueue, "task-queue", c.TaskQueue, "task queue for workflows (TANDEM_TASK_QUEUE)")
	fs.StringVar(&c.ModelTaskQueue, "model-task-queue", c.ModelTaskQueue, "task queue for model calls (TANDEM_MODEL_TASK_QUEUE)")
	fs.StringVar(&c.OllamaHost, "ollama", c.OllamaHost, "Ollama server `URL` (OLLAMA_HOST)")
	fs.StringVar(&c.Model, "model", c.Model, "model name on the Ollama server (TANDEM_MODEL)")
	fs.StringVar(&c.UIURL, "ui", c.UIURL, "Temporal Web UI base `URL` for links (TANDEM_UI_URL)")
}

// Validate reports the first setting that cannot work, as one sentence.
func (c Config) Validate() error {
	switch {
	case c.TemporalAddress == "":
		return fmt.Errorf("TEMPORAL_ADDRESS is empty; set it to the Temporal frontend, for example 127.0.0.1:7233")
	case c.Model == "":
		return fmt.Errorf("TANDEM_MODEL is empty; set it to a model on the Ollama server, for example %s", DefaultModel)
	case c.ModelParallel < 1:
		return fmt.Errorf("TANDEM_MODEL_PARALLEL is %d; set it to 1 or more (the Ollama server's OLLAMA_NUM_PARALLEL)", c.ModelParallel)
	case c.ModelTimeout <= 0:
		return fmt.Errorf("TANDEM_MODEL_TIMEOUT must be a positive duration such as 5m")
	case c.Role != RoleAll && c.Role != RoleWorkflows && c.Role != RoleModel:
		return fmt.Errorf("the worker role %q is not one of all, workflows and model; set TANDEM_WORKER_ROLE or --role to one of them", c.Role)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("TANDEM_SHUTDOWN_TIMEOUT must be a duration such as 30s")
	}
	return nil
}

// WorkflowURL is the Web UI page of one workflow run.
func (c Config) WorkflowURL(workflowID, runID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", c.UIURL, c.Namespace, workflowID, runID)
}

// OllamaURL turns an OLLAMA_HOST value (host, host:port or URL) into a URL,
// the way the ollama command reads it.
func OllamaURL(host string) string {
	host = strings.TrimRight(strings.TrimSpace(host), "/")
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	scheme, rest, _ := strings.Cut(host, "://")
	if !strings.Contains(rest, ":") {
		rest += ":11434"
	}
	return scheme + "://" + rest
}

// modelNameOf names a model imported from a GGUF file after the file, and is
// DefaultModel when there is no file.
func modelNameOf(file string) string {
	if file == "" {
		return DefaultModel
	}
	name := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
}

// list splits a comma-separated setting.
func list(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func env(key, fallback string) string {
	if v, ok := os.LookupEnv(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return fallback
}

// fileText is a small secret file's text, trimmed; empty when there is no
// such file (the setting that needs it then says what is missing).
func fileText(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func envInt(key string, fallback int) int {
	n, err := strconv.Atoi(env(key, strconv.Itoa(fallback)))
	if err != nil {
		return -1
	}
	return n
}

func envDuration(key string, fallback time.Duration) time.Duration {
	d, err := time.ParseDuration(env(key, fallback.String()))
	if err != nil {
		return -1
	}
	return d
}
