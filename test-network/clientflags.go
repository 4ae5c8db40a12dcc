package testnetwork

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// ClientFlags are the dct command-line flags that reach a gateway of the
// network as an identity of the gateway's organisation: --gateway (the
// public listener), --admin (the admin listener), --msp-dir (the
// identity's enrollment certificate and key, presented as the TLS client
// certificate) and --cacert (the organisation's TLS CA, which issued the
// admin listener's certificate).
func (d *Description) ClientFlags(gateway, role string) ([]string, error) {
	for _, gw := range d.Gateways {
		if gw.Name != gateway {
			continue
		}
		org, err := d.Org(gw.Org)
		if err != nil {
			return nil, err
		}
		id, err := org.Identity(role)
		if err != nil {
			return nil, err
		}
		return []string{"--gateway", gw.URL, "--admin", gw.AdminURL, "--msp-dir", id.MSPDir, "--cacert", org.TLSCACert}, nil
	}
	return nil, fmt.Errorf("no gateway %q in the network in %s", gateway, d.RunDir)
}

// clientFlagsCommand is dct-network client-flags: it prints ClientFlags on
// one line, for a shell to pass to dct (the paths of a run directory have
// no blanks).
func (c *cli) clientFlagsCommand() *cobra.Command {
	gateway, role := "gateway0", RolePublisher
	cmd := &cobra.Command{
		Use:   "client-flags",
		Short: "Print the dct flags reaching a gateway's admin listener as an identity of its organisation",
		Long: "client-flags prints --gateway, --admin, --msp-dir and --cacert for the dct command line: the\n" +
			"gateway's public and admin URLs, the MSP directory of its organisation's identity with --role\n" +
			"(default publisher: User1) and the organisation's TLS CA. Example:\n" +
			"  dct $(dct-network client-flags --run-dir .run/network) publish ./site",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := Load(c.runDir)
			if err != nil {
				return err
			}
			flags, err := d.ClientFlags(gateway, role)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, strings.Join(flags, " "))
			return nil
		},
	}
	cmd.Flags().StringVar(&gateway, "gateway", gateway, "gateway name (gateway0, gateway1, …)")
	cmd.Flags().StringVar(&role, "role", role, "role of the organisation's identity: publisher, auditor, gateway")
	return cmd
}
