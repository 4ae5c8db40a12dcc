package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/agents"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
)

// Run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, receives the bound HTTP address once the gateway serves.
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready func(addr string)) error {
	if err := cfg.Resolve(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	keys, err := LoadMasterKeys(cfg.MasterKeyFiles)
	if err != nil {
		return err
	}
	cfg.Content.MasterKeys = keys
	lc, err := ledger.Connect(ctx, cfg.Settings)
	if err != nil {
		return err
	}
	defer lc.Close()
	tlsCfg, err := agents.TLSConfig(cfg.AgentCA, cfg.AgentClientCert, cfg.AgentClientKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pool := agents.NewPool(tlsCfg)
	defer pool.Close()
	m, leave, err := startMesh(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer leave()
	svc, rep, err := newContent(cfg, lc, pool, m, log)
	if err != nil {
		return err
	}
	if rep != nil {
		rctx, stopRepairs := context.WithCancel(ctx)
		defer stopRepairs()
		go rep.Run(rctx, svc)
	}
	return serve(ctx, cfg, newHandler(cfg, svc, lc, m, rep, log), log, ready)
}

// startMesh joins the gossip mesh, encrypted with the consortium keyring
// (re-read on SIGHUP until closed); without MeshListen it returns nil. The
// returned function leaves the mesh.
func startMesh(ctx context.Context, cfg Config, log *slog.Logger) (*mesh.Mesh, func(), error) {
	if cfg.MeshListen == "" {
		return nil, func() {}, nil
	}
	name := cfg.Name
	if name == "" {
		name = "gateway-" + strings.NewReplacer(":", "-", ".", "-").Replace(cfg.Listen)
	}
	keys, err := cfg.Mesh.Keys()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	m, err := mesh.Start(ctx, mesh.Config{Name: name, Role: mesh.RoleGateway, Bind: cfg.MeshListen,
		Advertise: cfg.MeshAdvertise, Join: cfg.MeshJoin, Tags: map[string]string{"http": cfg.Listen}, Keys: keys, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("mesh: %w", err)
	}
	stopReload := cfg.Mesh.ReloadKeysOnSignal(ctx, m, log)
	return m, func() {
		stopReload()
		if err := m.Close(); err != nil {
			log.Warn("gateway: leaving the mesh", "err", err)
		}
	}, nil
}

// newContent builds the content service, with the mesh as its topology
// when there is one, and the repairer when Repair is on (run it with
// rep.Run).
func newContent(cfg Config, lc *ledger.Client, pool *agents.Pool, m *mesh.Mesh, log *slog.Logger) (*content.Service, *content.Repairer, error) {
	var opts []content.Option
	var topo *meshTopology
	if m != nil {
		topo = newMeshTopology(m, log)
		opts = append(opts, content.WithTopology(topo))
	}
	var rep *content.Repairer
	if cfg.Repair {
		rep = content.NewRepairer(content.RepairConfig{Interval: cfg.RepairInterval, DeadAfter: cfg.DeadAfter})
		opts = append(opts, content.WithRepairQueue(rep.Queue()))
	}
	svc, err := content.New(cfg.Content, lc, pool, log, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if topo != nil {
		// Members are checked against the ledger's node records.
		topo.nodes = svc.CachedNode
	}
	return svc, rep, nil
}

// newHandler is the HTTP API over svc, with the mesh and repairs in its
// status and the ledger's reachability as readiness.
func newHandler(cfg Config, svc *content.Service, lc *ledger.Client, m *mesh.Mesh, rep *content.Repairer, log *slog.Logger) http.Handler {
	status := func(ctx context.Context, measure bool) any {
		out := map[string]any{}
		if m != nil {
			out["members"] = meshStatus(ctx, m, measure)
		}
		if rep != nil {
			out["repairs"] = rep.Repaired()
		}
		return out
	}
	readyCheck := func(ctx context.Context) error {
		// Any answer from the chaincode, "not found" included, means the
		// ledger is reachable.
		_, err := lc.Object(ctx, "healthz")
		if err != nil && !errors.Is(err, records.ErrNotFound) {
			return err
		}
		return nil
	}
	return httpapi.New(svc, httpapi.Config{
		AllowOrigin: cfg.AllowOrigin, RequestTimeout: cfg.RequestTimeout, PublishTimeout: cfg.PublishTimeout,
		WriteTimeout: cfg.WriteTimeout, LatestMaxAge: cfg.LatestMaxAge, Mesh: status,
	}, readyCheck, log)
}

// meshStatus is the mesh's map; with measure, also measured round trips
// (a real probe each) beside the Vivaldi estimates, so operators can judge
// the estimates.
func meshStatus(ctx context.Context, m *mesh.Mesh, measure bool) any {
	snap := m.Snapshot()
	if !measure {
		return snap
	}
	measured := map[string]float64{}
	for _, mb := range snap.Members {
		if !mb.Status.Up() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if d, err := m.MeasureRTT(cctx, mb.Name); err == nil {
			measured[mb.Name] = float64(d) / float64(time.Millisecond)
		}
		cancel()
	}
	return map[string]any{"map": snap, "measuredRttMs": measured}
}

// newServer is the HTTP server with cfg's timeouts. Its WriteTimeout is
// the deadline of an answer's first write; the handler renews it for each
// segment of a stream and a publish extends its own deadlines.
func newServer(cfg Config, handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
}

// serve runs the HTTP server on cfg.Listen until ctx ends, then shuts it
// down within cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg Config, handler http.Handler, log *slog.Logger, ready func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := newServer(cfg, handler)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("gateway serving", "addr", ln.Addr().String(), "msp", cfg.MSPID, "peer", cfg.PeerAddress,
		"k", cfg.Content.K, "m", cfg.Content.M, "cacheBytes", cfg.Content.CacheBytes)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	log.Info("gateway shutting down")
	return srv.Shutdown(sctx)
}
