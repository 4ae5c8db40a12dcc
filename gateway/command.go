package gateway

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// NewCommand returns the dct-gateway command line.
func NewCommand() *cobra.Command {
	cfg := DefaultConfig()
	var applyEnv func() error
	cmd := &cobra.Command{
		Use:   "dct-gateway",
		Short: "Serve and publish DCT content over HTTP",
		Long: "dct-gateway serves and publishes DCT content over HTTP. It takes its ledger settings from a\n" +
			"Fabric connection profile and MSP directory (--connection-profile, --msp-dir), explicit flags,\n" +
			"or a test network (--network-dir). Every flag may also be set through the DCT_<FLAG>\n" +
			"environment variable (upper case, '-' as '_'); a flag wins over its variable.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(); err != nil {
				return err
			}
			lvl, err := cfg.level()
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			return Run(cmd.Context(), cfg, log, nil)
		},
	}
	applyEnv = cfg.RegisterFlags(cmd.Flags())
	cmd.AddCommand(healthCommand())
	return cmd
}
