package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/auctionaudit"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/spf13/cobra"
)

// auctionEvidence reads an auction's evidence through the admin listener:
// the SLA history of a node never scored is 404 NOT_FOUND there, an
// empty history here.
type auctionEvidence struct {
	*gatewayclient.Client
}

func (a auctionEvidence) SLAHistory(ctx context.Context, node string) ([]*records.HistoryEntry, error) {
	h, err := a.Client.SLAHistory(ctx, node)
	if gatewayclient.IsCode(err, api.CodeNotFound) {
		return nil, nil
	}
	return h, err
}

var auctionCheckHeader = []string{"what", "ok", "stored", "recomputed"}

func newVerifyAuctionCommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "verify-auction AUCTION_ID",
		Short: "Recompute a cleared auction from its reveals and recorded inputs, and compare with its stored awards, prices and contracts",
		Long: "verify-auction reads the auction (with the node registrations and SLA scores its clearing recorded), its revealed bids\n" +
			"and contracts, and each bidder's score history through the admin listener; it recomputes the clearing offline with the\n" +
			"chaincode's rules (records.ClearAuction), compares the status, awards, prices, failure and contracts, and checks each\n" +
			"recorded score against the score in force at the clearing (the last breakdown scored at or before it). It prints one\n" +
			"check per line (match or MISMATCH, on stderr too) and exits non-zero when any check does not match.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if err := records.ValidateAuctionID(args[0]); err != nil {
				return err
			}
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			ev, err := auctionaudit.CollectEvidence(cmd.Context(), auctionEvidence{c}, args[0])
			if err != nil {
				return err
			}
			cs := auctionaudit.Verify(ev)
			rows := make([][]string, 0, len(cs))
			bad := 0
			for _, x := range cs {
				rows = append(rows, []string{x.What, strconv.FormatBool(x.OK), x.Stored, x.Recomputed})
				fmt.Fprintln(e.stderr, x.String())
				if !x.OK {
					bad++
				}
			}
			if err := o.writeResult(e.stdout, cs, auctionCheckHeader, rows); err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%w: %d of %d checks of auction %s do not match", ErrMismatch, bad, len(cs), args[0])
			}
			fmt.Fprintf(e.stderr, "auction %s: all %d checks match\n", args[0], len(cs))
			return nil
		},
	}
	o.flags(cmd)
	return cmd
}
