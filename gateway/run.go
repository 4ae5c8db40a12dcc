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
	"github.com/spf13/cobra"
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

	tlsCfg, err := agents.TLSConfig(cfg.AgentCA, cfg.AgentClientCert, cfg.AgentClientKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pool := agents.NewPool(tlsCfg)
	defer pool.Close()

	var opts []content.Option
	var meshView func(ctx context.Context, measure bool) any
	if cfg.MeshListen != "" {
		name := cfg.Name
		if name == "" {
			name = "gateway-" + strings.NewReplacer(":", "-", ".", "-").Replace(cfg.Listen)
		}
		var seeds []string
		for _, s := range strings.Split(cfg.MeshJoin, ",") {
			if s = strings.TrimSpace(s); s != "" {
				seeds = append(seeds, s)
			}
		}
		m, err := mesh.Start(ctx, mesh.Config{Name: name, Role: mesh.RoleGateway, Bind: cfg.MeshListen,
			Advertise: cfg.MeshAdvertise, Join: seeds, Tags: map[string]string{"http": cfg.Listen}, Logger: log})
		if err != nil {
			return fmt.Errorf("mesh: %w", err)
		}
		defer m.Close()
		opts = append(opts, content.WithTopology(meshTopology{m}))
		meshView = func(ctx context.Context, measure bool) any {
			snap := m.Snapshot()
			if !measure {
				return snap
			}
			// Measured round trips (a real probe each) beside the
			// Vivaldi estimates, so operators can judge the estimates.
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
	}
	var rep *content.Repairer
	if cfg.Repair {
		rep = content.NewRepairer(content.RepairConfig{Interval: cfg.RepairInterval, DeadAfter: cfg.DeadAfter})
		opts = append(opts, content.WithRepairQueue(rep.Queue()))
	}
	svc, err := content.New(cfg.Content, lc, pool, log, opts...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if rep != nil {
		rctx, stopRepairs := context.WithCancel(ctx)
		defer stopRepairs()
		go rep.Run(rctx, svc)
	}
	status := func(ctx context.Context, measure bool) any {
		out := map[string]any{}
		if meshView != nil {
			out["members"] = meshView(ctx, measure)
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
	handler := httpapi.New(svc, httpapi.Config{
		AllowOrigin: cfg.AllowOrigin, RequestTimeout: cfg.RequestTimeout, PublishTimeout: cfg.PublishTimeout,
		LatestMaxAge: cfg.LatestMaxAge, CacheMaxObject: cfg.Content.CacheMaxObject, Mesh: status,
	}, readyCheck, log)

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
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}

// NewCommand returns the dct-gateway command line.
func NewCommand() *cobra.Command {
	cfg := DefaultConfig()
	cmd := &cobra.Command{
		Use:           "dct-gateway",
		Short:         "Serve and publish DCT content over HTTP",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
				return fmt.Errorf("%w: log level %q", ErrConfig, cfg.LogLevel)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			return Run(cmd.Context(), cfg, log, nil)
		},
	}
	cfg.RegisterFlags(cmd.Flags())
	return cmd
}
