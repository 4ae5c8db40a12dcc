package testnetwork

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/serviceconfig"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/cobra"
)

// grantCommand grants or revokes a member certificate's DCT roles as an
// organisation admin, on any consortium: the ledger settings are the
// gateway's and agent's (a connection profile and the admin's MSP
// directory, or the explicit flags).
func (c *cli) grantCommand() *cobra.Command {
	var (
		l              serviceconfig.Ledger
		certFile, node string
		roles          []string
		revoke         bool
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "grant",
		Short: "Grant (or --revoke) the DCT roles of a member certificate of the caller's organisation, as one of its admins",
		Long: "Grant gives the certificate --member-cert the roles --role (publisher, gateway, auditor, node with --node-id),\n" +
			"replacing the roles it had, through identity:Grant; the caller must be an admin (NodeOU admin) of the\n" +
			"certificate's organisation. --revoke removes them all. The answer is the registry entry, as JSON.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := l.Resolve(); err != nil {
				return err
			}
			if err := l.Settings.Validate(); err != nil {
				return err
			}
			certPEM, err := os.ReadFile(certFile)
			if err != nil {
				return fmt.Errorf("--member-cert: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cl, err := ledger.Connect(ctx, l.Settings)
			if err != nil {
				return err
			}
			defer cl.Close()
			var id *records.Identity
			if revoke {
				cert, err := records.ParseCertificatePEM(string(certPEM))
				if err != nil {
					return err
				}
				id, err = cl.RevokeIdentity(ctx, records.CertHash(cert))
				if err != nil {
					return err
				}
			} else {
				in := records.GrantInput{Certificate: string(certPEM), NodeID: node}
				for _, r := range roles {
					in.Roles = append(in.Roles, records.Role(r))
				}
				if _, err := in.Validate(); err != nil {
					return err
				}
				if id, err = cl.GrantIdentity(ctx, in); err != nil {
					return err
				}
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(id)
		},
	}
	s := settings.New(cmd.Flags(), EnvPrefix)
	l.Register(s, "the organisation admin's")
	cmd.Flags().StringVar(&certFile, "member-cert", "", "PEM certificate of the member (its MSP signcerts/ file)")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "role to grant: publisher, gateway, auditor or node (repeat or comma-separate)")
	cmd.Flags().StringVar(&node, "node-id", "", "with --role node: the node id the identity acts for")
	cmd.Flags().BoolVar(&revoke, "revoke", false, "remove every role of the certificate instead")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "deadline of the transaction")
	_ = cmd.MarkFlagRequired("member-cert")
	apply := applyEnv(s)
	cmd.PreRunE = func(*cobra.Command, []string) error { return apply() }
	return cmd
}
