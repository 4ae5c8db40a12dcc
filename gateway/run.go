package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
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
	master, err := os.ReadFile(cfg.MasterKeyFile)
	if err != nil {
		return fmt.Errorf("%w: master key: %w", ErrConfig, err)
	}
	cfg.Content.MasterKey = master
	lc, err := ledger.Connect(ctx, cfg.Settings)
	if err != nil {
		return err
	}
	defer lc.Close()
	clientKey, err := ledger.KeyFile(cfg.AgentClientKey)
	if err != nil {
		return fmt.Errorf("%w: agent client key: %w", ErrConfig, err)
	}
	tlsCfg, err := agents.TLSConfig(cfg.AgentCA, cfg.AgentClientCert, clientKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pool := agents.NewPool(tlsCfg)
	defer pool.Close()
	m, err := startMesh(ctx, cfg, log)
	if err != nil {
		return err
	}
	if m != nil {
		defer m.Close()
	}
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

// startMesh joins the gossip mesh; without MeshListen it returns nil.
func startMesh(ctx context.Context, cfg Config, log *slog.Logger) (*mesh.Mesh, error) {
	if cfg.MeshListen == "" {
		return nil, nil
	}
	name := cfg.Name
	if name == "" {
		name = "gateway-" + strings.NewReplacer(":", "-", ".", "-").Replace(cfg.Listen)
	}
	m, err := mesh.Start(ctx, mesh.Config{Name: name, Role: mesh.RoleGateway, Bind: cfg.MeshListen,
		Advertise: cfg.MeshAdvertise, Join: cfg.MeshJoin, Tags: map[string]string{"http": cfg.Listen}, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	return m, nil
}

// newContent builds the content service, with the mesh as its topology
// when there is one, and the repairer when Repair is on (run it with
// rep.Run).
func newContent(cfg Config, lc *ledger.Client, pool *agents.Pool, m *mesh.Mesh, log *slog.Logger) (*content.Service, *content.Repairer, error) {
	var opts []content.Option
	if m != nil {
		opts = append(opts, content.WithTopology(meshTopology{m}))
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
		LatestMaxAge: cfg.LatestMaxAge, CacheMaxObject: cfg.Content.CacheMaxObject, Mesh: status,
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

// serve runs the HTTP server on cfg.Listen until ctx ends, then shuts it
// down within cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg Config, handler http.Handler, log *slog.Logger, ready func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
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
