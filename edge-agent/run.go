package edgeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/edge-agent/server"
	"github.com/dct-network/dct/edge-agent/store"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/profiling"
)

// Version is the agent's software version, reported by Stat; set it with
// -ldflags "-X github.com/dct-network/dct/edge-agent.Version=…".
var Version = "dev"

// Ledger is what the agent needs of the ledger (*ledger.Client): the node
// registry to register in, and the identity registry and manifests to
// authorise calls with.
type Ledger interface {
	Registry
	server.Ledger
}

// dialFunc connects to the ledger; close releases the connection.
type dialFunc func(ctx context.Context, cfg Config) (l Ledger, close func(), err error)

// Run serves until ctx ends, then shuts down gracefully (leaving the mesh
// first). ready, when not nil, receives the bound gRPC address once the
// agent serves (and, with Register, is registered; with MeshListen, has
// started its mesh membership).
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready func(addr string)) error {
	return run(ctx, cfg, log, ready, dialLedger)
}

func run(ctx context.Context, cfg Config, log *slog.Logger, ready func(addr string), dial dialFunc) error {
	if err := cfg.Resolve(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := profiling.Serve(ctx, cfg.PprofListen, log); err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	am := metrics.NewAgent(reg)
	st, err := store.Open(ctx, cfg.DataDir, store.Options{Capacity: cfg.CapacityBytes, Logger: log})
	if err != nil {
		return fmt.Errorf("open store %s: %w", cfg.DataDir, err)
	}
	defer st.Close()
	key, err := LoadOrCreateKey(filepath.Join(cfg.DataDir, KeyFile))
	if err != nil {
		return err
	}
	pub, err := PublicKeyPEM(key)
	if err != nil {
		return err
	}
	members, err := memberauth.LoadVerifier(cfg.MemberCAs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	tlsCfg, err := server.TLSConfig(cfg.TLSCert, cfg.TLSKey, members)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if dial == nil {
		dial = dialLedger
	}
	// One long-lived ledger connection: registration, and the identity
	// and manifest reads that authorise calls.
	lc, closeLedger, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeLedger()
	epochSecs, err := ledgerEpochSeconds(ctx, lc, log)
	if err != nil {
		return err
	}
	if err := cfg.checkEpochLength(epochSecs); err != nil {
		return err
	}
	auth, err := server.NewAuthorizer(memberauth.New(members, server.NewRoleCache(lc, cfg.RoleCacheTTL)),
		log.With("component", "auth"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	served := server.NewServed(server.DefaultServedEpochs, server.DefaultServedCallers, nil)
	served.SetEpochSeconds(epochSecs)
	svc := server.New(st, server.Config{NodeID: cfg.NodeID, Zone: cfg.Zone, Version: Version,
		Ledger: lc, UploadIdleTimeout: cfg.UploadIdleTimeout, Served: served}, log)
	g, hs, err := server.NewGRPCServer(svc, tlsCfg, auth, am.ServerOptions()...)
	if err != nil {
		ln.Close()
		return err
	}
	var registered, meshJoined atomic.Bool
	registerAgentGauges(reg, st)
	opsCtx, stopOps := context.WithCancel(ctx) // the listener ends with run
	defer stopOps()
	if _, err := metrics.ServeOps(opsCtx, cfg.OpsListen, metrics.OpsHandler(metrics.OpsConfig{
		Component: "agent", Gatherer: reg,
		Health: map[string]metrics.Check{"grpc": grpcServing(hs)},
		Ready: map[string]metrics.Check{"grpc": grpcServing(hs), "registered": func(context.Context) error {
			if cfg.Register && !registered.Load() {
				return errors.New("the node is not registered on the ledger yet")
			}
			return nil
		}, "mesh": func(context.Context) error {
			if cfg.MeshListen != "" && !meshJoined.Load() {
				return errors.New("the agent has not joined the mesh yet")
			}
			return nil
		}},
	}), log); err != nil {
		ln.Close()
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(ln) }()
	stop := func() {
		hs.Shutdown()
		done := make(chan struct{})
		go func() { g.GracefulStop(); close(done) }()
		t := time.NewTimer(cfg.ShutdownTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			log.Warn("edge agent: graceful shutdown timed out; closing connections")
			g.Stop()
			<-done
		}
	}

	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = addr
	}
	stats := st.Stats()
	log.Info("edge agent serving", "addr", addr, "node", cfg.NodeID, "endpoint", endpoint, "zone", cfg.Zone,
		"capacityBytes", stats.Capacity, "usedBytes", stats.Used, "shards", stats.Shards, "dataDir", cfg.DataDir,
		"members", strings.Join(members.MSPIDs(), ","))
	if cfg.Register {
		if err := register(ctx, cfg, cfg.nodeInput(endpoint, pub), log, lc); err != nil {
			stop()
			return err
		}
		registered.Store(true)
	}
	withdraw := func() {}
	if cfg.Bid {
		if withdraw, err = startBidding(ctx, cfg, st, lc, log.With("component", "bids")); err != nil {
			stop()
			return err
		}
	}
	// Join the latency mesh once serving (and registered): gateways that
	// see the agent there can reach it.
	leave := func() {}
	if cfg.MeshListen != "" {
		mc := cfg.meshConfig(endpoint, log.With("component", "mesh"))
		if mc.Keys, err = cfg.Mesh.Keys(); err != nil {
			stop()
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		m, err := mesh.Start(ctx, mc)
		if err != nil {
			stop()
			return err
		}
		metrics.RegisterMesh(reg, "agent", m.Members)
		meshJoined.Store(true)
		log.Info("edge agent in the mesh", "meshAddr", m.Addr(), "seeds", strings.Join(cfg.MeshJoin, ","), "keyring", mc.Keys.String())
		stopReload := cfg.Mesh.ReloadKeysOnSignal(ctx, m, log.With("component", "mesh"))
		stopSLA := startSLA(ctx, cfg, lc, m, epochSecs, metrics.NewSLA(reg, "agent"), log)
		// Leave gracefully before the gRPC server stops, so gateways
		// see the agent as left rather than failed.
		leave = func() {
			stopSLA()
			stopReload()
			if err := m.Close(); err != nil {
				log.Warn("edge agent: leaving the mesh", "err", err)
			}
		}
	}
	// Served bytes per epoch and gateway, logged as each epoch ends, for
	// the operator to compare with the batches on the ledger.
	reportCtx, stopReport := context.WithCancel(ctx)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		served.Report(reportCtx, log.With("component", "served"), servedReportInterval)
	}()
	defer func() {
		stopReport()
		<-reported
	}()
	if ready != nil {
		ready(addr)
	}
	select {
	case err := <-errc:
		withdraw()
		leave()
		return err
	case <-ctx.Done():
	}
	log.Info("edge agent shutting down")
	withdraw()
	leave()
	stop()
	// The epochs that ended unreported, and the current one so far.
	server.LogServed(log.With("component", "served"), served.Closed())
	for _, e := range served.Epochs() {
		if e.Epoch == records.EpochOf(time.Now(), epochSecs) {
			server.LogServed(log.With("component", "served", "partial", true), []server.EpochServed{e})
		}
	}
	return nil
}

// startBidding places the node's bid and follows the auctions (bids.Bidder)
// until ctx ends; the returned function withdraws the bid (on leave).
func startBidding(ctx context.Context, cfg Config, st *store.Store, lc Ledger, log *slog.Logger) (func(), error) {
	bl, ok := lc.(bids.BidderLedger)
	if !ok {
		return nil, fmt.Errorf("%w: the ledger client cannot bid", ErrConfig)
	}
	key, err := cfg.bidKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	b, err := bids.NewBidder(cfg.NodeID, cfg.BandwidthBps, cfg.BidPolicy, key, bl, log)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	free := func() int64 {
		s := st.Stats()
		return max(s.Capacity-s.Used-s.Reserved, 0)
	}
	if _, err := b.Update(ctx, free()); err != nil {
		return nil, fmt.Errorf("place the bid of %s: %w", cfg.NodeID, err)
	}
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(bctx, cfg.BidInterval, free)
	}()
	return func() {
		cancel()
		<-done
		wctx, wcancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer wcancel()
		if err := b.Withdraw(wctx); err != nil {
			log.Warn("cannot withdraw the bid", "node", cfg.NodeID, "err", err)
		}
	}, nil
}

// servedReportInterval is how often the agent looks for ended epochs to
// log their served-byte counters.
const servedReportInterval = 5 * time.Second

// register registers the node, retrying for at most RegisterTimeout.
func register(ctx context.Context, cfg Config, in records.NodeInput, log *slog.Logger, reg Registry) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.RegisterTimeout)
	defer cancel()
	_, err := registerRetrying(ctx, reg, cfg.MSPID, in, log)
	return err
}

func dialLedger(ctx context.Context, cfg Config) (Ledger, func(), error) {
	lc, err := ledger.Connect(ctx, cfg.Settings)
	if err != nil {
		return nil, nil, err
	}
	return lc, func() { lc.Close() }, nil
}

// epochReader reads the ledger's epoch (*ledger.Client: delivery:Epoch).
type epochReader interface {
	Epoch(ctx context.Context) (*records.EpochInfo, error)
}

// ledgerEpochSeconds is the ledger's epoch length, read once at start-up:
// the served counters and the SLA attestations name the ledger's epochs.
// A ledger client that cannot read it (a test fake) means the default.
func ledgerEpochSeconds(ctx context.Context, lc Ledger, log *slog.Logger) (int64, error) {
	er, ok := lc.(epochReader)
	if !ok {
		return records.DefaultEpochSeconds, nil
	}
	info, err := er.Epoch(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the ledger's epoch length (delivery:Epoch): %w", err)
	}
	if err := records.ValidateEpochSeconds(info.Seconds); err != nil {
		return 0, fmt.Errorf("the ledger's epoch length: %w", err)
	}
	log.Info("ledger epochs", "seconds", info.Seconds, "epoch", info.Epoch)
	return info.Seconds, nil
}
