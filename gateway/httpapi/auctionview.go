package httpapi

import (
	"context"
	"strconv"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/gin-gonic/gin"
)

// AuctionLedger is what the auction audit endpoints read of the ledger
// (*ledger.Client): reads open to every member.
type AuctionLedger interface {
	GetAuction(ctx context.Context, id string) (*records.Auction, error)
	AuctionReveals(ctx context.Context, id string) ([]*records.Reveal, error)
	AuctionContracts(ctx context.Context, id string) ([]*records.Contract, error)
}

// auctionView serves an auction and its evidence on the admin listener,
// for any member (what dct audit verify-auction reads, with the scores'
// history from slaView):
//
//	GET /v1/audit/auctions/{id}             the auction, with the inputs its clearing recorded
//	GET /v1/audit/auctions/{id}/reveals     its revealed bids, by node
//	GET /v1/audit/auctions/{id}/contracts   its contracts, by shard and node
//
// with ?format=json (default) or csv.
type auctionView struct {
	ledger AuctionLedger
}

func (v *auctionView) routes(g *gin.RouterGroup) {
	g = g.Group("/auctions", serves("auction", v.ledger != nil))
	g.GET("/:id", v.auction)
	g.GET("/:id/reveals", v.reveals)
	g.GET("/:id/contracts", v.contracts)
}

func (v *auctionView) auction(c *gin.Context) {
	a, err := v.ledger.GetAuction(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, a, func() table {
		return table{header: []string{"id", "object", "publisher", "status", "bids", "awards", "storagePerGBMonth", "deliveryPerMiB", "clearedAt", "clearTxId", "failure"},
			rows: [][]string{{a.ID, a.Object, a.Publisher, string(a.Status), strconv.Itoa(len(a.Bids)), strconv.Itoa(len(a.Awards)),
				i64(a.StoragePerGBMonth), i64(a.DeliveryPerMiB), a.ClearedAt, a.ClearTxID, a.Failure}}}
	})
}

func (v *auctionView) reveals(c *gin.Context) {
	rs, err := v.ledger.AuctionReveals(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, rs, func() table {
		t := table{header: []string{"node", "storagePerGBMonth", "deliveryPerMiB", "capacityBytes", "bandwidthBps", "revealedAt", "txId"}}
		for _, r := range rs {
			t.rows = append(t.rows, []string{r.Terms.Node, i64(r.Terms.StoragePerGBMonth), i64(r.Terms.DeliveryPerMiB), i64(r.Terms.CapacityBytes),
				i64(r.Terms.BandwidthBps), r.RevealedAt, r.TxID})
		}
		return t
	})
}

func (v *auctionView) contracts(c *gin.Context) {
	cs, err := v.ledger.AuctionContracts(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, cs, func() table {
		t := table{header: []string{"shard", "node", "org", "object", "storagePerGBMonth", "deliveryPerMiB", "start", "end", "txId"}}
		for _, x := range cs {
			t.rows = append(t.rows, []string{strconv.Itoa(x.Shard), x.Node, x.Org, x.Object, i64(x.StoragePerGBMonth), i64(x.DeliveryPerMiB), x.Start, x.End, x.TxID})
		}
		return t
	})
}
