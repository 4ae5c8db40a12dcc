package bids

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// Policy is a node operator's bidding policy: the prices asked, the
// bandwidth offered (0: the node's registered bandwidth), the most
// capacity offered (0: all the free space), and how much the free space
// must change, in percent, before the bid is replaced.
type Policy struct {
	StoragePerGBMonth int64
	DeliveryPerMiB    int64
	BandwidthBps      int64
	MaxCapacityBytes  int64
	RebidPercent      int
}

// DefaultRebidPercent is the default material change of free space.
const DefaultRebidPercent = 10

// Validate checks the policy.
func (p Policy) Validate() error {
	switch {
	case p.StoragePerGBMonth < 0 || p.StoragePerGBMonth > records.MaxBidPrice:
		return fmt.Errorf("bid storage price must be in 0..%d, got %d", records.MaxBidPrice, p.StoragePerGBMonth)
	case p.DeliveryPerMiB < 0 || p.DeliveryPerMiB > records.MaxBidPrice:
		return fmt.Errorf("bid delivery price must be in 0..%d, got %d", records.MaxBidPrice, p.DeliveryPerMiB)
	case p.BandwidthBps < 0 || p.BandwidthBps > records.MaxBidBandwidth:
		return fmt.Errorf("bid bandwidth must be in 0..%d, got %d", records.MaxBidBandwidth, p.BandwidthBps)
	case p.MaxCapacityBytes < 0 || p.MaxCapacityBytes > records.MaxBidCapacity:
		return fmt.Errorf("bid capacity must be in 0..%d, got %d", records.MaxBidCapacity, p.MaxCapacityBytes)
	case p.RebidPercent < 1 || p.RebidPercent > 100:
		return fmt.Errorf("rebid percent must be in 1..100, got %d", p.RebidPercent)
	}
	return nil
}

// String summarises the policy.
func (p Policy) String() string {
	return fmt.Sprintf("%d/GB-month %d/MiB bandwidth %d capacity ≤ %d rebid at %d%%", p.StoragePerGBMonth, p.DeliveryPerMiB, p.BandwidthBps, p.MaxCapacityBytes, p.RebidPercent)
}

// Terms are the bid terms of node with free bytes free and registered
// bandwidth bw under p.
func (p Policy) Terms(node string, free, bw int64) records.BidTerms {
	c := free
	if p.MaxCapacityBytes > 0 {
		c = min(c, p.MaxCapacityBytes)
	}
	if p.BandwidthBps > 0 {
		bw = p.BandwidthBps
	}
	return records.BidTerms{Node: node, StoragePerGBMonth: p.StoragePerGBMonth, DeliveryPerMiB: p.DeliveryPerMiB, CapacityBytes: c, BandwidthBps: bw}
}

// BidderLedger is what a Bidder needs of the ledger (*ledger.Client).
type BidderLedger interface {
	PlaceBid(ctx context.Context, in records.BidInput) (*records.SealedBid, error)
	WithdrawBid(ctx context.Context, node string) (*records.SealedBid, error)
	RevealBid(ctx context.Context, in records.RevealInput) (*records.Reveal, error)
	AuctionEvents(ctx context.Context) (<-chan ledger.AuctionEvent, error)
}

// Bidder keeps one node's standing bid and reveals it.
type Bidder struct {
	node   string
	bw     int64
	policy Policy
	key    Key
	l      BidderLedger
	log    *slog.Logger

	mu     sync.Mutex
	sealed []Sealed // newest last; the last few, for auctions opened before a re-bid
	free   int64

	subscribed     chan struct{}
	subscribedOnce sync.Once
}

// Subscribed is closed once Run follows the auction events (its
// subscription request is sent: events of blocks committed from then on
// reach it).
func (b *Bidder) Subscribed() <-chan struct{} { return b.subscribed }

// keepSealed is how many past bids a Bidder can still reveal.
const keepSealed = 4

// NewBidder returns the bidder of node (registered bandwidth bw) under p;
// key, when set, seals the opening for the organisation's gateways.
func NewBidder(node string, bw int64, p Policy, key Key, l BidderLedger, log *slog.Logger) (*Bidder, error) {
	if err := records.ValidateNodeID(node); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(key) > 0 {
		if err := key.Validate(); err != nil {
			return nil, err
		}
	}
	return &Bidder{node: node, bw: bw, policy: p, key: key, l: l, log: log, subscribed: make(chan struct{})}, nil
}

// Update bids with free bytes of free space when the node has no bid yet
// or its free space changed by RebidPercent or more since the last bid.
// It reports whether it placed a bid.
func (b *Bidder) Update(ctx context.Context, free int64) (bool, error) {
	b.mu.Lock()
	last, has := b.free, len(b.sealed) > 0
	b.mu.Unlock()
	if has && abs(free-last)*100 < int64(b.policy.RebidPercent)*max(last, 1) {
		return false, nil
	}
	if free <= 0 {
		return false, nil
	}
	s, err := Seal(b.policy.Terms(b.node, free, b.bw), b.key)
	if err != nil {
		return false, err
	}
	if _, err := b.l.PlaceBid(ctx, s.Input); err != nil {
		return false, err
	}
	b.mu.Lock()
	b.sealed = append(b.sealed, s)
	if len(b.sealed) > keepSealed {
		b.sealed = slices.Delete(b.sealed, 0, len(b.sealed)-keepSealed)
	}
	b.free = free
	b.mu.Unlock()
	b.log.Info("bid placed", "node", b.node, "terms", s.Terms.String())
	return true, nil
}

// Sealed returns the bids the bidder can still reveal, newest last.
func (b *Bidder) Sealed() []Sealed {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sealed)
}

// Withdraw withdraws the node's bid (on leave).
func (b *Bidder) Withdraw(ctx context.Context) error {
	_, err := b.l.WithdrawBid(ctx, b.node)
	if err == nil {
		b.log.Info("bid withdrawn", "node", b.node)
	}
	return err
}

// Reveal reveals the node's bid in auction: the newest sealed bid whose
// commitment the auction accepts.
func (b *Bidder) Reveal(ctx context.Context, auction string) error {
	b.mu.Lock()
	cands := slices.Clone(b.sealed)
	b.mu.Unlock()
	var err error
	for i := len(cands) - 1; i >= 0; i-- {
		_, err = b.l.RevealBid(ctx, cands[i].Reveal(auction))
		if err == nil || errors.Is(err, records.ErrConflict) || errors.Is(err, ledger.ErrConflict) {
			return nil // revealed (by us, or by the org's gateway)
		}
		if !errors.Is(err, records.ErrInvalid) {
			return err // only a hash mismatch tries an older bid
		}
	}
	if err == nil {
		err = fmt.Errorf("no bid placed by this agent")
	}
	return err
}

// Run follows the auction events until ctx ends, revealing the node's
// bid in every auction that snapshotted it, and re-bids every interval
// from free() (the store's free bytes). The event stream is resubscribed
// when it breaks.
func (b *Bidder) Run(ctx context.Context, interval time.Duration, free func() int64) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		evs, err := b.l.AuctionEvents(ctx)
		if err != nil {
			b.log.Warn("auction events unavailable; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
				continue
			}
		}
		b.subscribedOnce.Do(func() { close(b.subscribed) })
	follow:
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := b.Update(ctx, free()); err != nil {
					b.log.Warn("bid update failed", "node", b.node, "err", err)
				}
			case ev, ok := <-evs:
				if !ok {
					break follow
				}
				if ev.Status != records.AuctionOpen || !slices.Contains(ev.Nodes, b.node) {
					continue
				}
				go func(id string) {
					if err := b.Reveal(ctx, id); err != nil {
						b.log.Warn("reveal failed", "node", b.node, "auction", id, "err", err)
					}
				}(ev.Auction)
			}
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
