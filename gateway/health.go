package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/dct-network/dct/pkg/probe"
	"github.com/spf13/cobra"
)

// healthCommand is dct-gateway health: the container healthcheck. It reads
// the gateway's own settings (the same flags and DCT_* variables) and GETs
// /healthz on its --listen address.
func healthCommand() *cobra.Command {
	cfg := DefaultConfig()
	timeout := 5 * time.Second
	var applyEnv func() error
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 when the gateway of these settings answers GET /healthz with 200",
		Long: "health GETs /healthz on the gateway's --listen address (an unspecified host as 127.0.0.1).\n" +
			"It takes the same flags and DCT_* variables as the gateway itself.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return CheckHealth(ctx, cfg.Listen)
		},
	}
	applyEnv = cfg.RegisterFlags(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "give up after this long")
	return cmd
}

// CheckHealth GETs /healthz of the gateway listening on listen.
func CheckHealth(ctx context.Context, listen string) error {
	addr, err := probe.LocalAddr(listen)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return probe.HTTP(ctx, "http://"+addr+"/healthz")
}
