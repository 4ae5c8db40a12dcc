package sim

import (
	"math"

	"github.com/dct-network/dct/chaincode/records"
)

// LedgerLoad is the transactions per second DCT puts on the ledger, by
// kind, from the transactions its code sends (see README, Scale
// simulation):
//
//   - receipts: per gateway per epoch one delivery:Commit and one
//     delivery:Prove, whatever the request rate;
//   - attestations: per epoch one sla:Attest per gateway and per agent,
//     and one sla:Score;
//   - auctions: per publish one auction:Open, one auction:Reveal per
//     standing bid the auction snapshots (every bidding node, up to
//     records.MaxAuctionBids) and one auction:Clear, plus the manifest;
//   - repairs: one manifest:UpdateHolders per repaired shard (from the
//     churn simulation).
type LedgerLoad struct {
	Nodes, Gateways int
	EpochSeconds    float64
	PublishesPerSec float64
	Receipts        float64
	Attestations    float64
	Auctions        float64
	Repairs         float64
}

// Total is the sum of every kind.
func (l LedgerLoad) Total() float64 { return l.Receipts + l.Attestations + l.Auctions + l.Repairs }

// Ledger computes the load of nodes agents (all bidding) and gateways
// with epochs of epochSeconds (the ledger default is records.DefaultEpochSeconds),
// publishes per second and repairs per second.
func Ledger(nodes, gateways int, epochSeconds, publishes, repairs float64) LedgerLoad {
	bids := math.Min(float64(nodes), float64(records.MaxAuctionBids))
	return LedgerLoad{
		Nodes: nodes, Gateways: gateways, EpochSeconds: epochSeconds, PublishesPerSec: publishes,
		Receipts:     2 * float64(gateways) / epochSeconds,
		Attestations: (float64(gateways) + float64(nodes) + 1) / epochSeconds,
		Auctions:     publishes * (bids + 3),
		Repairs:      repairs,
	}
}

// GatewaysNeeded is how many gateways serve rate requests per second when
// a share hit of them are cache hits served at warm requests per second
// per gateway and the rest cold reads at cold per second.
func GatewaysNeeded(rate, hit, warm, cold float64) int {
	return int(math.Ceil(rate * (hit/warm + (1-hit)/cold)))
}
