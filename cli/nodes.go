package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// newNodesCommand: the ledger's edge node registry as the gateway reads it
// (GET /v1/nodes) for list; register, deactivate and reactivate are
// ledger transactions the organisation's admin signs (nodeadmin.go).
// Nodes may also register themselves (dct-agent --register, as the node's
// own identity).
func newNodesCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "The edge node registry on the ledger: list (from the gateway), register, deactivate, reactivate (as the org's admin)",
	}
	admin := &nodeAdmin{e: e}
	apply := admin.register(cmd)
	// A subcommand's own persistent hook replaces the root's: run both.
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if root := c.Root(); root.PersistentPreRunE != nil {
			if err := root.PersistentPreRunE(c, args); err != nil {
				return err
			}
		}
		return apply()
	}
	cmd.AddCommand(nodeWriteCommands(admin)...)
	var o output
	list := &cobra.Command{
		Use:   "list",
		Short: "Every registered node: owner, zone, coordinates, capacity, status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			nodes, err := e.client().Nodes(cmd.Context())
			if err != nil {
				return err
			}
			return o.print(e.stdout, nodes, func(tw io.Writer) {
				fmt.Fprintln(tw, "ID\tORG\tZONE\tLAT\tLON\tSTORAGE\tBANDWIDTH\tSTATUS\tENDPOINT")
				for _, n := range nodes {
					status := string(n.Status)
					if n.DeactivationReason != "" {
						status += " (" + n.DeactivationReason + ")"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.4f\t%d\t%d\t%s\t%s\n", n.ID, n.Org, n.Zone, n.Latitude, n.Longitude,
						n.StorageBytes, n.BandwidthBps, status, n.Endpoint)
				}
			})
		},
	}
	o.flag(list)
	cmd.AddCommand(list)
	return cmd
}
