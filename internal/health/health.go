// Package health serves a process's liveness and readiness: /healthz says
// the process is up, /readyz that what it depends on answers (Temporal, the
// business store, the model server), the way orchestrators probe them.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Check reports whether one dependency answers.
type Check func(ctx context.Context) error

// Checks are a process's dependencies by name.
type Checks map[string]Check

// Report is what /readyz answers: "ok" per dependency, or why not.
type Report struct {
	Status string            `json:"status"` // ready or unready
	Checks map[string]string `json:"checks"`
}

// checkTimeout bounds one probe of one dependency.
const checkTimeout = 3 * time.Second

// Run probes every dependency at once.
func (cs Checks) Run(ctx context.Context) Report {
	r := Report{Status: "ready", Checks: make(map[string]string, len(cs))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range cs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			result := "ok"
			if err := check(ctx); err != nil {
				result = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			r.Checks[name] = result
			if result != "ok" {
				r.Status = "unready"
			}
		})
	}
	wg.Wait()
	return r
}

// Register adds GET /healthz and GET /readyz to mux.
func Register(mux *http.ServeMux, checks Checks) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rep := checks.Run(r.Context())
		code := http.StatusOK
		if rep.Status != "ready" {
			code = http.StatusServiceUnavailable
		}
		write(w, code, rep)
	})
}

func write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Temporal is the check of a Temporal connection.
func Temporal(c client.Client) Check {
	return func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
}

// Probe asks the /readyz of a process serving on addr (as it listens:
// host:port, a wildcard host meaning this machine) whether it is ready,
// for container health checks in images without a shell or curl.
func Probe(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("the health address %q is not host:port", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("nothing answers health checks on %s: %w", addr, err)
	}
	defer resp.Body.Close()
	var rep Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || resp.StatusCode != http.StatusOK {
		var why []string
		for _, n := range slices.Sorted(maps.Keys(rep.Checks)) {
			if rep.Checks[n] != "ok" {
				why = append(why, n+": "+rep.Checks[n])
			}
		}
		return fmt.Errorf("not ready (%s)", strings.Join(why, "; "))
	}
	return nil
}
