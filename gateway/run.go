package gateway

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/agents"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/profiling"
	"github.com/dct-network/dct/pkg/receipts"
)

// Addrs are the bound addresses of a serving gateway.
type Addrs struct {
	// HTTP is the public listener (CDN, read-only metadata).
	HTTP string
	// Admin is the admin listener (HTTPS; "" without one).
	Admin string
	// Ops is the operations listener (/metrics, /healthz, /readyz; ""
	// without one).
	Ops string
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
	keys, err := LoadMasterKeys(cfg.MasterKeyFiles)
	if err != nil {
		return err
	}
	cfg.Content.MasterKeys = keys
	if err := profiling.Serve(ctx, cfg.PprofListen, log); err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	gm := metrics.NewGateway(reg)
	lc, err := ledger.Connect(ctx, cfg.Settings)
	if err != nil {
		return err
	}
	defer lc.Close()
	if cfg, err = cfg.withLedgerEpoch(ctx, lc); err != nil {
		return err
	}
	log.Info("ledger epochs", "length", cfg.EpochLength)
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
	m, leave, err := startMesh(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer leave()
	issuer, wal, closeReceipts, err := openReceipts(cfg, log)
	if err != nil {
		return err
	}
	defer closeReceipts()
	slaP, slaOpts := newSLA(cfg)
	svc, rep, topo, err := newContent(cfg, lc, pool, m, issuer, gm, log, slaOpts...)
	if err != nil {
		return err
	}
	var dash *dashboard
	if cfg.Dashboard {
		dash = newDashboard(api.DashboardGateway{Name: meshName(cfg), MSPID: lc.MSPID(), URL: publicURL(cfg), Mesh: m != nil},
			svc, m, topo, rep, slaP.table, gm, log.With("component", "dashboard"))
		dctx, stopDash := context.WithCancel(ctx)
		defer stopDash()
		go dash.follow(dctx, lc)
	}
	// Stopped (deferred after closeReceipts) before the log is closed.
	defer startSubmitter(ctx, cfg, wal, lc, gm, dash, log)()
	defer startSLA(ctx, cfg, slaP, svc, lc, m, metrics.NewSLA(reg, "gateway"), log)()
	registerGatewayGauges(reg, svc, m)
	if cfg.ManifestEvents {
		wctx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go svc.Watch(wctx, lc, content.DefaultWatchConfig())
	}
	if cfg.BidKeyFile != "" {
		key, err := cfg.bidKey()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		rv, err := bids.NewRevealer(lc, key, cfg.RevealGrace, log.With("component", "reveals"))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		rvctx, stopReveals := context.WithCancel(ctx)
		defer stopReveals()
		go rv.Run(rvctx)
	}
	if rep != nil {
		rctx, stopRepairs := context.WithCancel(ctx)
		defer stopRepairs()
		go rep.Run(rctx, svc)
	}
	if cfg.Auction && cfg.LifecycleInterval > 0 {
		lcy, err := content.NewLifecycle(content.LifecycleConfig{Interval: cfg.LifecycleInterval, RevealSeconds: cfg.AuctionTerms.RevealSeconds},
			lc, auctioneer{l: lc, poll: cfg.AuctionPoll}, log.With("component", "lifecycle"))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		lctx, stopLifecycle := context.WithCancel(ctx)
		defer stopLifecycle()
		go lcy.Run(lctx, svc)
	}
	var adminSrv *adminServer
	if cfg.AdminListen != "" {
		var bundles httpapi.ReceiptBundles
		if wal != nil {
			if bundles, err = newReceiptBundles(cfg, wal); err != nil {
				return err
			}
		}
		if adminSrv, err = newAdminServer(cfg, svc, lc, bundles, gm, log); err != nil {
			return err
		}
	}
	var serving atomic.Bool
	opsCtx, stopOps := context.WithCancel(ctx) // the listener ends with Run
	defer stopOps()
	opsAddr, err := metrics.ServeOps(opsCtx, cfg.OpsListen, metrics.OpsHandler(metrics.OpsConfig{
		Component: "gateway", Gatherer: reg,
		Health: map[string]metrics.Check{"ledger": ledgerReady(lc)},
		Ready: map[string]metrics.Check{"ledger": ledgerReady(lc), "http": func(context.Context) error {
			if !serving.Load() {
				return errors.New("the public listener is not serving yet")
			}
			return nil
		}},
	}), log)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return serve(ctx, cfg, newHandler(cfg, svc, lc, m, rep, gm, dash, log), adminSrv, log, func(a Addrs) {
		serving.Store(true)
		a.Ops = opsAddr
		if ready != nil {
			ready(a)
		}
	})
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
func newAdminServer(cfg Config, svc *content.Service, lc *ledger.Client, bundles httpapi.ReceiptBundles, gm *metrics.Gateway, log *slog.Logger) (*adminServer, error) {
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
			WriteTimeout: cfg.WriteTimeout, Metrics: gm},
		MSPID: lc.MSPID(), Auth: memberauth.New(v, roles), Rate: cfg.AdminRate, Burst: cfg.AdminBurst,
		Audit: lc, Receipts: bundles, SLA: lc, Auctions: lc,
	}, log)
	return &adminServer{tls: memberauth.ServerTLSConfig(pair, v), handler: h}, nil
}

// receiptBundles serves receipt bundles from the gateway's receipt log,
// one at a time: building one rereads its epoch's segment and holds its
// tree (32 bytes a receipt), so concurrent requests cannot multiply that.
type receiptBundles struct {
	mu      sync.Mutex
	wal     *receipts.WAL
	certPEM string
}

func newReceiptBundles(cfg Config, wal *receipts.WAL) (*receiptBundles, error) {
	cert, err := receipts.LoadCertificate(cfg.CertFile)
	if err != nil {
		return nil, fmt.Errorf("%w: receipts certificate: %w", ErrConfig, err)
	}
	return &receiptBundles{wal: wal, certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))}, nil
}

func (r *receiptBundles) Bundle(ctx context.Context, b *records.Batch, index int64) (*receipts.Bundle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return receipts.NewBundle(r.wal, b, index, r.certPEM)
}

// adminURL is the admin listener's base URL as the public listener names
// it ("" without one).
func adminURL(cfg Config) string {
	if cfg.AdminListen == "" {
		return ""
	}
	return "https://" + cfg.AdminListen
}

// startMesh joins the gossip mesh, encrypted with the consortium keyring
// (re-read on SIGHUP until closed); without MeshListen it returns nil. The
// returned function leaves the mesh.
func startMesh(ctx context.Context, cfg Config, log *slog.Logger) (*mesh.Mesh, func(), error) {
	if cfg.MeshListen == "" {
		return nil, func() {}, nil
	}
	name := meshName(cfg)
	keys, err := cfg.Mesh.Keys()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	tags := map[string]string{"http": cfg.Listen}
	if u := publicURL(cfg); u != "" {
		tags[mesh.TagPublicURL] = u
	}
	m, err := mesh.Start(ctx, mesh.Config{Name: name, Role: mesh.RoleGateway, Bind: cfg.MeshListen,
		Advertise: cfg.MeshAdvertise, Join: cfg.MeshJoin, Tags: tags, Keys: keys, Logger: log})
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

// meshName is the gateway's name in the mesh (and on its dashboard).
func meshName(cfg Config) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	return "gateway-" + strings.NewReplacer(":", "-", ".", "-").Replace(cfg.Listen)
}

// openReceipts opens the receipts' write-ahead log (replaying it), whose
// group commits are sealed with the gateway's ledger identity, and the
// issuer; nil without ReceiptsDir. startSubmitter submits the batches of
// ended epochs.
func openReceipts(cfg Config, log *slog.Logger) (*receipts.Issuer, *receipts.WAL, func(), error) {
	if cfg.ReceiptsDir == "" {
		return nil, nil, func() {}, nil
	}
	id, err := ledger.ReceiptIdentity(cfg.MSPID, cfg.CertFile, cfg.KeyPath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: receipts identity: %w", ErrConfig, err)
	}
	wal, err := receipts.OpenWAL(cfg.ReceiptsDir, receipts.WALOptions{Sealer: id, FlushInterval: cfg.ReceiptsFlush})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("receipts log: %w", err)
	}
	is, err := receipts.NewIssuer(wal, id, cfg.EpochLength, nil)
	if err != nil {
		wal.Close()
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	log.Info("delivery receipts on", "dir", cfg.ReceiptsDir, "epoch", cfg.EpochLength)
	return is, wal, func() {
		if err := wal.Close(); err != nil {
			log.Warn("receipts log: close", "err", err)
		}
	}, nil
}

// newContent builds the content service, with the mesh as its topology
// when there is one, extra's options (SLA), and the repairer when Repair
// is on (run it with rep.Run).
func newContent(cfg Config, lc *ledger.Client, pool *agents.Pool, m *mesh.Mesh, issuer *receipts.Issuer, gm *metrics.Gateway, log *slog.Logger, extra ...content.Option) (*content.Service, *content.Repairer, content.Topology, error) {
	opts := append(extra, content.WithMetrics(gm))
	if issuer != nil {
		opts = append(opts, content.WithReceipts(countingReceipts{r: issuer, gm: gm}))
	}
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
	if cfg.Auction {
		opts = append(opts, content.WithAuction(auctioneer{l: lc, poll: cfg.AuctionPoll, gm: gm}, cfg.auctionTerms()))
	}
	svc, err := content.New(cfg.Content, lc, pool, log, opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if topo == nil {
		return svc, rep, nil, nil
	}
	// Members are checked against the ledger's node records.
	topo.nodes = svc.CachedNode
	return svc, rep, topo, nil
}

// newHandler is the HTTP API over svc, with the mesh and repairs in its
// status and the ledger's reachability as readiness.
func newHandler(cfg Config, svc *content.Service, lc *ledger.Client, m *mesh.Mesh, rep *content.Repairer, gm *metrics.Gateway, dash *dashboard, log *slog.Logger) http.Handler {
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
	hc := httpapi.Config{
		AllowOrigin: cfg.AllowOrigin, RequestTimeout: cfg.RequestTimeout, PublishTimeout: cfg.PublishTimeout,
		WriteTimeout: cfg.WriteTimeout, LatestMaxAge: cfg.LatestMaxAge, Mesh: status,
		FeedPrefixes: cfg.FeedPrefixes, FeedMaxAge: cfg.FeedMaxAge,
		AdminURL: adminURL(cfg), Gateways: gatewayDirectory(cfg, m), Metrics: gm,
	}
	if dash != nil {
		hc.Dashboard = dash.build
	}
	return httpapi.New(svc, hc, httpapi.Ready(ledgerReady(lc)), log)
}

// ledgerReady checks that the ledger answers: any answer from the
// chaincode, "not found" included, means it is reachable.
func ledgerReady(lc *ledger.Client) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := lc.Object(ctx, "healthz")
		if err != nil && !errors.Is(err, records.ErrNotFound) {
			return err
		}
		return nil
	}
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

// serve runs the public HTTP server on cfg.Listen and, when there is one,
// the admin HTTPS server on cfg.AdminListen until ctx ends (or either
// fails), then shuts them down within cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg Config, handler http.Handler, admin *adminServer, log *slog.Logger, ready func(Addrs)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	servers := []*http.Server{newServer(cfg, handler)}
	listeners := []net.Listener{ln}
	addrs := Addrs{HTTP: ln.Addr().String()}
	if admin != nil {
		aln, err := net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("admin listener: %w", err)
		}
		as := newServer(cfg, admin.handler)
		as.TLSConfig = admin.tls
		servers = append(servers, as)
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

// auctioneer runs a publish's auction on the ledger (bids.RunAuction).
type auctioneer struct {
	l    bids.ReauctionLedger
	poll time.Duration
	gm   *metrics.Gateway
}

func (a auctioneer) Award(ctx context.Context, in records.AuctionInput) (*records.Auction, error) {
	au, err := bids.RunAuction(ctx, a.l, in, a.poll)
	if err != nil {
		a.gm.Auction("error")
	} else {
		a.gm.Auction("awarded")
	}
	return au, err
}

// Reaward runs a re-auction of the contract lifecycle (bids.RunReauction).
func (a auctioneer) Reaward(ctx context.Context, in records.ReauctionInput) (*records.Auction, error) {
	return bids.RunReauction(ctx, a.l, in, a.poll)
}

// Settle finishes an open re-auction another gateway left (bids.Settle).
func (a auctioneer) Settle(ctx context.Context, au *records.Auction) (*records.Auction, error) {
	return bids.Settle(ctx, a.l, au, a.poll)
}
