package records

import (
	"fmt"
	"time"
)

// Contract lifecycle (issue 11, item 4).
//
// The shard contracts of one object form a placement rooted at the
// auction its manifest names (Manifest.Auction, the root). Each live
// contract has a Holding under HoldingKey(root, shard, node), so that the
// current holders of a root are one partial-key read whatever auctions
// awarded them. A holding ends (EndedAt) when a re-auction replaces it:
//
//   - EndRenewed: the term of the contract ends within its renewal window
//     (RenewalWindow: the last tenth of the term); every such holding of
//     the root is re-auctioned, its holder bidding like any other;
//   - EndScore: the holder's SLA score is below the contract's floor
//     (SLAFloor) and its state is penalized (the grace period of warnings
//     has passed);
//   - EndInactive: the holder is deactivated or no longer registered.
//
// The chaincode checks the reason against the ledger state when the
// re-auction opens (auction:Reopen); at most one re-auction per root is
// open at a time (ReauctionKey), so gateways running the lifecycle at
// once cannot open two: the later one is refused, or loses the MVCC race.
// Clearing it awards the replaced slots under the placement rules with
// the holdings that stay counted, writes the new contracts and holdings,
// and ends the replaced ones at the clearing's time (Contract.EndedAt):
// deliveries of the old holder in epochs that start at or after it are
// not paid. The gateways then move the shards onto the winners with
// manifest:UpdateHolders (the repair mechanism).

// EndReason says why a contract ended before its term.
type EndReason string

// Reasons of re-auctions and contract ends.
const (
	EndRenewed  EndReason = "renewed"
	EndScore    EndReason = "score"
	EndInactive EndReason = "inactive"
)

// String returns the reason text.
func (r EndReason) String() string { return string(r) }

// Validate checks the reason.
func (r EndReason) Validate() error {
	switch r {
	case EndRenewed, EndScore, EndInactive:
		return nil
	}
	return invalidf("reason must be %s, %s or %s, got %s", EndRenewed, EndScore, EndInactive, quote(string(r)))
}

// Key types of the lifecycle: [root, shard, node] for holdings, [root] for
// the re-auction marker.
const (
	HoldingKeyType   = "dct.contract.holding"
	ReauctionKeyType = "dct.reauction"
)

// DefaultSLAFloor is the floor of an auction that sets none: the score
// below which a node is warned (SLAWarnBelow). A floor above it would
// never apply, since only a penalized node loses its contracts, and a
// penalized node scores below SLAWarnBelow.
const DefaultSLAFloor = SLAWarnBelow

// RenewalFraction: a contract may be renewed during the last
// 1/RenewalFraction of its term.
const RenewalFraction = 10

// RenewalWindow is how long before the end of a term of termSeconds its
// renewal may start (at least one second).
func RenewalWindow(termSeconds int64) time.Duration {
	return time.Duration(max(termSeconds/RenewalFraction, 1)) * time.Second
}

// Holding is a live or ended contract of a root placement: node holds
// shard under the contract Auction awarded.
type Holding struct {
	Root    string `json:"root"`
	Shard   int    `json:"shard"`
	Node    string `json:"node"`
	Auction string `json:"auction"`
	// End is the end of the contract's term.
	End string `json:"end"`
	// SLAFloor is the contract's floor.
	SLAFloor int64 `json:"slaFloor"`
	// EndedAt, EndReason and Successor are set when a re-auction
	// replaced the holding.
	EndedAt   string    `json:"endedAt,omitempty" metadata:",optional"`
	EndReason EndReason `json:"endReason,omitempty" metadata:",optional"`
	Successor string    `json:"successor,omitempty" metadata:",optional"`
	TxID      string    `json:"txId"`
}

// Live reports whether the holding has not ended.
func (h *Holding) Live() bool { return h != nil && h.EndedAt == "" }

// String is "node holds root#shard (auction)".
func (h *Holding) String() string {
	return fmt.Sprintf("%s holds %s#%d (auction %s)", h.Node, h.Root, h.Shard, h.Auction)
}

// HoldingKey returns the ledger key of a holding.
func HoldingKey(root string, shard int, node string) (string, error) {
	if err := ValidateAuctionID(root); err != nil {
		return "", err
	}
	if shard < 0 || shard >= MaxShards {
		return "", invalidf("shard must be in 0..%d, got %d", MaxShards-1, shard)
	}
	if err := ValidateNodeID(node); err != nil {
		return "", err
	}
	return CompositeKey(HoldingKeyType, root, fmt.Sprintf("%0*d", ShardPad, shard), node)
}

// ReauctionKey returns the ledger key of a root's re-auction marker
// (Marker: the last re-auction opened for it).
func ReauctionKey(root string) (string, error) {
	if err := ValidateAuctionID(root); err != nil {
		return "", err
	}
	return CompositeKey(ReauctionKeyType, root)
}

// ReauctionMarker is the last re-auction opened for a root.
type ReauctionMarker struct {
	Root    string `json:"root"`
	Auction string `json:"auction"`
	TxID    string `json:"txId"`
}

// ReauctionInput is what auction:Reopen takes: the root (the auction the
// manifest names), the node whose holdings are re-auctioned (empty for a
// renewal, which re-auctions every holding within its renewal window),
// the reason, and like auction:Open the reveal window and the nodes the
// publisher cannot reach.
type ReauctionInput struct {
	Root          string    `json:"root"`
	Node          string    `json:"node,omitempty" metadata:",optional"`
	Reason        EndReason `json:"reason"`
	RevealSeconds int       `json:"revealSeconds,omitempty" metadata:",optional"`
	Exclude       []string  `json:"exclude,omitempty" metadata:",optional"`
}

// Validate checks the input and fills the default reveal window.
func (in *ReauctionInput) Validate() error {
	if in == nil {
		return invalidf("re-auction input is missing")
	}
	if err := ValidateAuctionID(in.Root); err != nil {
		return err
	}
	if err := in.Reason.Validate(); err != nil {
		return err
	}
	switch {
	case in.Reason == EndRenewed && in.Node != "":
		return invalidf("a renewal re-auctions every holding near its end: it names no node, got %s", quote(in.Node))
	case in.Reason != EndRenewed && in.Node == "":
		return invalidf("a re-auction for reason %s names the node", in.Reason)
	}
	if in.Node != "" {
		if err := ValidateNodeID(in.Node); err != nil {
			return err
		}
	}
	if in.RevealSeconds == 0 {
		in.RevealSeconds = DefaultRevealSeconds
	}
	if in.RevealSeconds < MinRevealSeconds || in.RevealSeconds > MaxRevealSeconds {
		return invalidf("revealSeconds must be in %d..%d, got %d", MinRevealSeconds, MaxRevealSeconds, in.RevealSeconds)
	}
	if len(in.Exclude) > MaxAuctionExclude {
		return invalidf("at most %d excluded nodes, got %d", MaxAuctionExclude, len(in.Exclude))
	}
	for _, n := range in.Exclude {
		if err := ValidateNodeID(n); err != nil {
			return err
		}
	}
	return nil
}

// DecodeReauctionInput decodes caller JSON strictly and validates it.
func DecodeReauctionInput(data []byte) (*ReauctionInput, error) {
	var in ReauctionInput
	if err := decodeStrict(data, &in, "re-auction"); err != nil {
		return nil, err
	}
	return &in, in.Validate()
}

// Replacement is what a re-auction replaces, recorded on it when it opens
// (Auction.Replaces): the root, the reason, the node (empty for a
// renewal), the holdings it re-auctions (Replaced: one slot each) and the
// root's other live holdings, which the clearing counts under the
// placement rules (Held).
type Replacement struct {
	Root     string    `json:"root"`
	Reason   EndReason `json:"reason"`
	Node     string    `json:"node,omitempty" metadata:",optional"`
	Replaced []Award   `json:"replaced"`
	Held     []Award   `json:"held"`
}

// Barred reports whether node may not win in the re-auction: the node
// that loses its contracts for its score or for leaving.
func (r *Replacement) Barred(node string) bool {
	return r != nil && r.Reason != EndRenewed && r.Node == node
}

// ScoreBelowFloor reports whether score s takes a contract with floor
// away from its node: below the floor and penalized.
func ScoreBelowFloor(s SLAScore, floor int64) bool {
	return s.State == SLAStatePenalized && s.Score < floor
}
