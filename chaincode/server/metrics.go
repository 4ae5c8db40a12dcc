package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// EnvOpsListen names the operations listener's address (GET /metrics,
// /healthz, /readyz; unset = off).
const EnvOpsListen = "CHAINCODE_OPS_LISTEN"

// maxFunctionLabels bounds the function label values of the chaincode's
// metrics: names past it (a caller sending made-up names) count as
// "other".
const maxFunctionLabels = 256

// Metrics are the chaincode server's instruments: every transaction it
// executes for a peer (endorsement simulations and queries: a transaction
// endorsed by three peers counts three times, once on each of their
// chaincode connections), by function and response status.
type Metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu    sync.Mutex
	names map[string]bool
}

// NewMetrics registers dct_chaincode_calls_total{function,status} and
// dct_chaincode_call_duration_seconds{function} on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dct", Subsystem: "chaincode", Name: "calls_total",
			Help: "Chaincode function executions (endorsements and queries), by function and response status (200 ok, 400 refused, 500 error)."},
			[]string{"function", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "dct", Subsystem: "chaincode", Name: "call_duration_seconds",
			Help:    "Time to execute a chaincode function, by function.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}}, []string{"function"}),
		names: map[string]bool{},
	}
	reg.MustRegister(m.calls, m.duration)
	return m
}

func (m *Metrics) label(fn string) string {
	if fn == "" {
		return "none"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[fn] {
		return fn
	}
	if len(m.names) >= maxFunctionLabels {
		return "other"
	}
	m.names[fn] = true
	return fn
}

// Instrument wraps cc so that every Init and Invoke is recorded.
func (m *Metrics) Instrument(cc shim.Chaincode) shim.Chaincode { return &instrumented{cc: cc, m: m} }

type instrumented struct {
	cc shim.Chaincode
	m  *Metrics
}

func (i *instrumented) Init(stub shim.ChaincodeStubInterface) *peer.Response {
	return i.record("Init", func() *peer.Response { return i.cc.Init(stub) })
}

func (i *instrumented) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, _ := stub.GetFunctionAndParameters()
	return i.record(fn, func() *peer.Response { return i.cc.Invoke(stub) })
}

func (i *instrumented) record(fn string, call func() *peer.Response) *peer.Response {
	start := time.Now()
	resp := call()
	label := i.m.label(fn)
	status := int32(500)
	if resp != nil {
		status = resp.GetStatus()
	}
	i.m.calls.WithLabelValues(label, strconv.Itoa(int(status))).Inc()
	i.m.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
	return resp
}

// NewRegistry is the chaincode process's registry: Go runtime and
// process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// opsStatus is the JSON body of /healthz and /readyz (the gateways' and
// agents' shape).
type opsStatus struct {
	Status       string            `json:"status"`
	Component    string            `json:"component"`
	Time         string            `json:"time"`
	FailedChecks []opsFailedChecks `json:"failed_checks,omitempty"`
}

type opsFailedChecks struct {
	Component string `json:"component"`
	Reason    string `json:"reason"`
}

// OpsHandler serves /metrics from g, /healthz (the process answers) and
// /readyz (ready: nil once the chaincode server is serving).
func OpsHandler(g prometheus.Gatherer, ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	write := func(w http.ResponseWriter, err error) {
		st := opsStatus{Status: "OK", Component: "chaincode", Time: time.Now().UTC().Format(time.RFC3339Nano)}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			st.Status = "Service Unavailable"
			st.FailedChecks = []opsFailedChecks{{Component: "server", Reason: err.Error()}}
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(st)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { write(w, nil) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { write(w, ready()) })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": "not_found", "message": "the operations listener serves GET /metrics, /healthz and /readyz"})
	})
	return mux
}

// ServeOps serves h on addr until ctx ends; an empty addr does nothing.
// It returns the bound address once the listener is bound.
func ServeOps(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (string, error) {
	if addr == "" {
		return "", nil
	}
	if err := validateAddress(addr); err != nil {
		return "", fmt.Errorf("%s: %w", EnvOpsListen, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvOpsListen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("operations listener", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}
