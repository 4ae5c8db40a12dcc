package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every DCT metric.
const Namespace = "dct"

// NewRegistry is a process's registry: the Go runtime and process
// collectors (go_*, process_*) and nothing else yet.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Check is one health or readiness check: nil when it passes.
type Check func(ctx context.Context) error

// Status is the JSON body of /healthz and /readyz.
type Status struct {
	// Status is "OK" or "Service Unavailable".
	Status string `json:"status"`
	// Component names the process ("gateway", "agent", "chaincode").
	Component string `json:"component"`
	// Time is when the checks ran (RFC 3339).
	Time string `json:"time"`
	// FailedChecks names the checks that failed, with their reason.
	FailedChecks []FailedCheck `json:"failed_checks,omitempty"`
}

// FailedCheck is one check that did not pass.
type FailedCheck struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// Status values.
const (
	StatusOK          = "OK"
	StatusUnavailable = "Service Unavailable"
)

// OpsConfig describes an operations listener.
type OpsConfig struct {
	// Component names the process in the health answers.
	Component string
	// Gatherer is what /metrics serves (the process's registry).
	Gatherer prometheus.Gatherer
	// Health are the liveness checks of /healthz, Ready the readiness
	// checks of /readyz (by name); none passes.
	Health, Ready map[string]Check
	// CheckTimeout bounds each check (default 5s).
	CheckTimeout time.Duration
}

// OpsHandler serves /metrics, /healthz and /readyz.
func OpsHandler(cfg OpsConfig) http.Handler {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 5 * time.Second
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{
		// A collector's error leaves its metrics out rather than
		// failing the whole scrape.
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       cfg.CheckTimeout,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, r, cfg, cfg.Health)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, r, cfg, cfg.Ready)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": "not_found",
			"message": "the operations listener serves GET /metrics, /healthz and /readyz"})
	})
	return mux
}

// RunChecks runs checks and returns the status they give.
func RunChecks(ctx context.Context, component string, checks map[string]Check, timeout time.Duration) Status {
	st := Status{Status: StatusOK, Component: component, Time: time.Now().UTC().Format(time.RFC3339Nano)}
	for name, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := c(cctx)
		cancel()
		if err != nil {
			st.Status = StatusUnavailable
			st.FailedChecks = append(st.FailedChecks, FailedCheck{Component: name, Reason: err.Error()})
		}
	}
	return st
}

func writeStatus(w http.ResponseWriter, r *http.Request, cfg OpsConfig, checks map[string]Check) {
	st := RunChecks(r.Context(), cfg.Component, checks, cfg.CheckTimeout)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if st.Status != StatusOK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(st)
}

// ServeOps serves h on addr until ctx ends; an empty addr does nothing
// (""). It returns the bound address once the listener is bound.
func ServeOps(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (string, error) {
	if addr == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("operations listener: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("operations listener", "err", err)
		}
	}()
	bound := ln.Addr().String()
	log.Info("operations listener serving", "addr", bound, "paths", "/metrics /healthz /readyz")
	return bound, nil
}

// CheckAddr checks an operations listen address (host:port; "" = off).
func CheckAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("operations listen address %q: %w", addr, err)
	}
	return nil
}
