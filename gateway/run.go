package gateway

import (
	"context"
	"crypto/tls"
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
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/mesh"
)

// Addrs are the bound addresses of a serving gateway.
type Addrs struct {
	// HTTP is the public listener (CDN, read-only metadata).
	HTTP string
	// Admin is the admin listener (HTTPS; "" without one).
	Admin string
}

// Run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, receives the bound addresses once the gateway serves.
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready func(Addrs)) error {
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
	tlsCfg, err := agents.TLSConfig(cfg.AgentCA, cfg.AgentClientCert, cfg.AgentClientKey)
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
	var adminSrv *adminServer
	if cfg.AdminListen != "" {
		if adminSrv, err = newAdminServer(cfg, svc, lc, log); err != nil {
			return err
		}
	}
	return serve(ctx, cfg, newHandler(cfg, svc, lc, m, rep, log), adminSrv, log, ready)
}

// adminServer is the admin listener: its TLS configuration (member client
// certificates) and handler.
type adminServer struct {
	tls     *tls.Config
	handler http.Handler
}

// newAdminServer builds the admin listener: client certificates verified
// against the members' MSP root CAs, roles read from the ledger through a
// bounded TTL cache, writes for publishers of the gateway's organisation.
func newAdminServer(cfg Config, svc *content.Service, lc *ledger.Client, log *slog.Logger) (*adminServer, error) {
	v, err := memberauth.LoadVerifier(cfg.MemberCAs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pair, err := tls.LoadX509KeyPair(cfg.AdminTLSCert, cfg.AdminTLSKey)
	if err != nil {
		return nil, fmt.Errorf("%w: admin TLS pair: %w", ErrConfig, err)
	}
	roles := memberauth.NewRoleCache(lc, memberauth.WithTTL(cfg.RoleTTL), memberauth.WithCacheSize(cfg.RoleCacheSize))
	h := httpapi.NewAdmin(svc, httpapi.AdminConfig{
		Config: httpapi.Config{RequestTimeout: cfg.RequestTimeout, PublishTimeout: cfg.PublishTimeout,
			CacheMaxObject: cfg.Content.CacheMaxObject},
		MSPID: lc.MSPID(), Auth: memberauth.New(v, roles), Rate: cfg.AdminRate, Burst: cfg.AdminBurst,
	}, log)
	return &adminServer{tls: memberauth.ServerTLSConfig(pair, v), handler: h}, nil
}

// adminURL is the admin listener's base URL as the public listener names
// it ("" without one).
func adminURL(cfg Config) string {
	if cfg.AdminListen == "" {
		return ""
	}
	return "https://" + cfg.AdminListen
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
		AdminURL: adminURL(cfg),
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

// serve runs the public HTTP server on cfg.Listen and, when there is one,
// the admin HTTPS server on cfg.AdminListen until ctx ends (or either
// fails), then shuts them down within cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg Config, handler http.Handler, admin *adminServer, log *slog.Logger, ready func(Addrs)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	servers := []*http.Server{{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}}
	listeners := []net.Listener{ln}
	addrs := Addrs{HTTP: ln.Addr().String()}
	if admin != nil {
		aln, err := net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("admin listener: %w", err)
		}
		servers = append(servers, &http.Server{Handler: admin.handler, TLSConfig: admin.tls,
			ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute})
		listeners = append(listeners, tls.NewListener(aln, admin.tls))
		addrs.Admin = aln.Addr().String()
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	log.Info("gateway serving", "addr", addrs.HTTP, "admin", addrs.Admin, "msp", cfg.MSPID, "peer", cfg.PeerAddress,
		"k", cfg.Content.K, "m", cfg.Content.M, "cacheBytes", cfg.Content.CacheBytes)
	if ready != nil {
		ready(addrs)
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	log.Info("gateway shutting down")
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	if serveErr != nil {
		return serveErr
	}
	return errors.Join(errs...)
}
