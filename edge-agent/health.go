package edgeagent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/probe"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ErrUnhealthy marks an agent that does not report SERVING.
var ErrUnhealthy = errors.New("agent not serving")

// healthCommand is dct-agent health: the container healthcheck. It reads
// the agent's own settings (the same flags and DCT_AGENT_* variables) and
// asks the agent listening on --listen for its gRPC health.
func healthCommand() *cobra.Command {
	cfg := DefaultConfig()
	timeout := 5 * time.Second
	var envErr func() error
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 when the agent of these settings reports SERVING on gRPC health",
		Long: "health dials the agent's --listen address (an unspecified host as 127.0.0.1) over mutual TLS,\n" +
			"presenting the agent's own ledger identity (which chains to its organisation's MSP CA, as the\n" +
			"agent requires) and accepting only the agent's own --tls-cert, and asks grpc.health.v1 for the\n" +
			"overall status. It takes the same flags and DCT_AGENT_* variables as the agent itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envErr(); err != nil {
				return err
			}
			if err := cfg.Resolve(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return CheckHealth(ctx, cfg)
		},
	}
	envErr = cfg.RegisterFlags(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "give up after this long")
	return cmd
}

// CheckHealth asks the agent cfg describes (after Resolve) for its gRPC
// health over mutual TLS and returns nil when it is SERVING.
func CheckHealth(ctx context.Context, cfg Config) error {
	addr, err := probe.LocalAddr(cfg.Listen)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	own, err := os.ReadFile(cfg.TLSCert)
	if err != nil {
		return fmt.Errorf("%w: --tls-cert: %w", ErrConfig, err)
	}
	ownKey, err := os.ReadFile(cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("%w: --tls-key: %w", ErrConfig, err)
	}
	ownPair, err := tls.X509KeyPair(own, ownKey)
	if err != nil {
		return fmt.Errorf("%w: agent TLS pair: %w", ErrConfig, err)
	}
	keyFile, err := ledger.KeyFile(cfg.KeyPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	client, err := tls.LoadX509KeyPair(cfg.CertFile, keyFile)
	if err != nil {
		return fmt.Errorf("%w: ledger identity as TLS client: %w", ErrConfig, err)
	}
	want := ownPair.Certificate[0]
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{client},
		// The probe runs beside the agent: it accepts exactly the agent's
		// own certificate, whatever name it was dialled by.
		InsecureSkipVerify: true, //nolint:gosec // pinned below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return fmt.Errorf("%w: %s presents another certificate than --tls-cert", ErrUnhealthy, addr)
			}
			return nil
		},
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnhealthy, addr, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%w: %s reports %s", ErrUnhealthy, addr, resp.GetStatus())
	}
	return nil
}
