package testnetwork

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/serviceconfig"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/cobra"
)

// nodeCommand takes nodes of the caller's organisation out of service (or
// back), as one of its admins, on any consortium: the ledger settings are
// the gateway's and agent's (a connection profile and the admin's MSP
// directory, or the explicit flags). A bank leaving the consortium
// deactivates its nodes first, so that the gateways move their shards off.
func (c *cli) nodeCommand() *cobra.Command {
	var (
		l       serviceconfig.Ledger
		reason  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "node deactivate|reactivate NODE_ID...",
		Short: "Deactivate (or reactivate) nodes of the caller's organisation in the ledger's node registry, as one of its admins",
		Long: "node deactivate marks each node inactive through node:Deactivate (the gateways then stop placing shards on\n" +
			"it and rebuild its shards elsewhere); node reactivate undoes it. The caller must be an admin of the\n" +
			"nodes' organisation, or the node's own identity. The answer is each node's registry entry, as JSON.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			verb, ids := args[0], args[1:]
			if verb != "deactivate" && verb != "reactivate" {
				return fmt.Errorf("%w: node %q: want deactivate or reactivate", ErrConfig, verb)
			}
			for _, id := range ids {
				if err := records.ValidateNodeID(id); err != nil {
					return fmt.Errorf("%w: node id %q: %w", ErrConfig, id, err)
				}
			}
			if _, _, err := l.Resolve(); err != nil {
				return err
			}
			if err := l.Settings.Validate(); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cl, err := ledger.Connect(ctx, l.Settings)
			if err != nil {
				return err
			}
			defer cl.Close()
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			for _, id := range ids {
				var n *records.Node
				if verb == "deactivate" {
					n, err = cl.DeactivateNode(ctx, id, reason)
				} else {
					n, err = cl.ReactivateNode(ctx, id)
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", verb, id, err)
				}
				if err := enc.Encode(n); err != nil {
					return err
				}
			}
			return nil
		},
	}
	s := settings.New(cmd.Flags(), EnvPrefix)
	l.Register(s, "the organisation admin's")
	cmd.Flags().StringVar(&reason, "reason", "", "with deactivate: why, recorded on the node")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "deadline of the transactions")
	apply := applyEnv(s)
	cmd.PreRunE = func(*cobra.Command, []string) error { return apply() }
	return cmd
}
