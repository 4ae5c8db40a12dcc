package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/spf13/cobra"
)

// newAuctionsCommand: an auction, its bids (sealed and revealed) and its
// contracts, read through the admin listener's audit view.
func newAuctionsCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auctions",
		Short: "Storage auctions: an auction, its bids and its contracts (admin listener, any member)",
	}
	one := func(use, short string, run func(cmd *cobra.Command, o *output, id string) error) *cobra.Command {
		var o output
		c := &cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := o.check(); err != nil {
					return err
				}
				if err := records.ValidateAuctionID(args[0]); err != nil {
					return err
				}
				return run(cmd, &o, args[0])
			},
		}
		o.flag(c)
		return c
	}
	cmd.AddCommand(
		one("show AUCTION_ID", "An auction: its terms, status, clearing prices and awards", func(cmd *cobra.Command, o *output, id string) error {
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			a, err := c.GetAuction(cmd.Context(), id)
			if err != nil {
				return err
			}
			return o.print(e.stdout, a, func(tw io.Writer) {
				fmt.Fprintf(tw, "auction\t%s\npublisher\t%s\nstatus\t%s\nopened\t%s\ndeadline\t%s\nsealed bids\t%d\n",
					a.ID, a.Publisher, a.Status, a.OpenedAt, a.Deadline, len(a.Bids))
				if a.ClearedAt != "" {
					fmt.Fprintf(tw, "cleared\t%s\nprice storage/GB-month\t%d\nprice delivery/MiB\t%d\n", a.ClearedAt, a.StoragePerGBMonth, a.DeliveryPerMiB)
				}
				if a.Failure != "" {
					fmt.Fprintf(tw, "failure\t%s\n", a.Failure)
				}
				for _, aw := range a.Awards {
					fmt.Fprintf(tw, "award shard %d\t%s\n", aw.Shard, aw.Node)
				}
			})
		}),
		one("bids AUCTION_ID", "An auction's bids: sealed (node, org) and revealed terms", func(cmd *cobra.Command, o *output, id string) error {
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			a, err := c.GetAuction(cmd.Context(), id)
			if err != nil {
				return err
			}
			reveals, err := c.AuctionReveals(cmd.Context(), id)
			if err != nil {
				return err
			}
			if o.json() {
				return printJSON(e.stdout, map[string]any{"sealed": a.Bids, "reveals": reveals})
			}
			revealed := map[string]*records.Reveal{}
			for _, r := range reveals {
				revealed[r.Terms.Node] = r
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NODE\tORG\tREVEALED\tSTORAGE/GB-MONTH\tDELIVERY/MIB\tCAPACITY\tBANDWIDTH")
			for _, b := range a.Bids {
				if r := revealed[b.Node]; r != nil {
					fmt.Fprintf(tw, "%s\t%s\tyes\t%d\t%d\t%d\t%d\n", b.Node, b.Org, r.Terms.StoragePerGBMonth, r.Terms.DeliveryPerMiB, r.Terms.CapacityBytes, r.Terms.BandwidthBps)
				} else {
					fmt.Fprintf(tw, "%s\t%s\tno\t-\t-\t-\t-\n", b.Node, b.Org)
				}
			}
			return tw.Flush()
		}),
		one("contracts AUCTION_ID", "An auction's contracts: shard, node, prices and term", func(cmd *cobra.Command, o *output, id string) error {
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			cs, err := c.AuctionContracts(cmd.Context(), id)
			if err != nil {
				return err
			}
			return o.print(e.stdout, cs, func(tw io.Writer) {
				fmt.Fprintln(tw, "SHARD\tNODE\tORG\tOBJECT\tSIZE\tSTORAGE/GB-MONTH\tDELIVERY/MIB\tSTART\tEND")
				for _, k := range cs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", k.Shard, k.Node, k.Org, k.Object, k.ShardSize, k.StoragePerGBMonth, k.DeliveryPerMiB, k.Start, k.End)
				}
			})
		}),
	)
	return cmd
}

// newBalancesCommand: token accounts of organisations (default: the
// caller's own), through the admin listener; the chaincode shows an
// account to its organisation and to auditors.
func newBalancesCommand(e *env) *cobra.Command {
	var o output
	cmd := &cobra.Command{
		Use:   "balances [MSPID...]",
		Short: "Token balances: balance, escrow, issued, owed (default: your organisation's)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				w, err := c.Whoami(cmd.Context())
				if err != nil {
					return err
				}
				args = []string{w.MSPID}
			}
			var accounts []*records.Account
			for _, msp := range args {
				a, err := c.AuditAccount(cmd.Context(), msp)
				if err != nil {
					return fmt.Errorf("%s: %w", msp, err)
				}
				accounts = append(accounts, a)
			}
			return o.print(e.stdout, accounts, func(tw io.Writer) {
				fmt.Fprintln(tw, "ORG\tBALANCE\tESCROW\tISSUED\tOWED\tQUEUED\tUPDATED")
				for _, a := range accounts {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", a.MSPID, a.Balance, a.Escrow, a.Issued, a.Owed, a.Queued, a.UpdatedAt)
				}
			})
		},
	}
	o.flag(cmd)
	return cmd
}
