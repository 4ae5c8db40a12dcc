package edgeagent

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// NewCommand returns the dct-agent command line.
func NewCommand() *cobra.Command {
	cfg := DefaultConfig()
	var envErr func() error
	cmd := &cobra.Command{
		Use:   "dct-agent",
		Short: "Store and serve DCT shards as an edge node",
		Long: "dct-agent stores erasure-coded shards for DCT gateways over mutual TLS and registers\n" +
			"itself in the ledger's node registry. It takes its ledger settings from a Fabric connection\n" +
			"profile and MSP directory (--connection-profile, --msp-dir), explicit flags, or a test network\n" +
			"(--network-dir). Every flag may also be set through the DCT_AGENT_<FLAG> environment variable\n" +
			"(upper case, '-' as '_'); a flag wins over its variable.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envErr(); err != nil {
				return err
			}
			lvl, err := cfg.level()
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			err = Run(cmd.Context(), cfg, log, nil)
			if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return nil // interrupted while starting
			}
			return err
		},
	}
	envErr = cfg.RegisterFlags(cmd.Flags())
	cmd.AddCommand(healthCommand())
	return cmd
}
