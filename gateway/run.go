package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/agents"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/ledger"
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

	svc, err := content.New(cfg.Content, lc, pool, log)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
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
		LatestMaxAge: cfg.LatestMaxAge, CacheMaxObject: cfg.Content.CacheMaxObject,
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
