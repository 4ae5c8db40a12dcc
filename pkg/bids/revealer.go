package bids

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// RevealerLedger is what a Revealer needs of the ledger (*ledger.Client).
type RevealerLedger interface {
	MSPID() string
	GetBid(ctx context.Context, node string) (*records.SealedBid, error)
	AuctionReveals(ctx context.Context, id string) ([]*records.Reveal, error)
	RevealBid(ctx context.Context, in records.RevealInput) (*records.Reveal, error)
	AuctionEvents(ctx context.Context) (<-chan ledger.AuctionEvent, error)
}

// Revealer is a gateway's backup for its organisation's bidders: grace
// after an auction opened, it reveals, from the openings on the ledger
// (decrypted with the organisation's bid key), the bids of its
// organisation's nodes that are not revealed yet, so that no bid is lost
// to an agent that is down or slow.
type Revealer struct {
	l     RevealerLedger
	key   Key
	grace time.Duration
	log   *slog.Logger

	subscribed     chan struct{}
	subscribedOnce sync.Once
}

// Subscribed is closed once Run follows the auction events.
func (r *Revealer) Subscribed() <-chan struct{} { return r.subscribed }

// NewRevealer returns a revealer for l's organisation.
func NewRevealer(l RevealerLedger, key Key, grace time.Duration, log *slog.Logger) (*Revealer, error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	return &Revealer{l: l, key: key, grace: grace, log: log, subscribed: make(chan struct{})}, nil
}

// Run follows the auction events until ctx ends.
func (r *Revealer) Run(ctx context.Context) {
	for ctx.Err() == nil {
		evs, err := r.l.AuctionEvents(ctx)
		if err != nil {
			r.log.Warn("auction events unavailable; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
				continue
			}
		}
		r.subscribedOnce.Do(func() { close(r.subscribed) })
		for ev := range evs {
			if ev.Status == records.AuctionOpen {
				go r.RevealMissing(ctx, ev.Auction, ev.Nodes)
			}
		}
	}
}

// RevealMissing waits grace, then reveals the bids of the organisation's
// nodes among nodes that auction has no reveal of. It returns how many it
// revealed.
func (r *Revealer) RevealMissing(ctx context.Context, auction string, nodes []string) int {
	mine := map[string]bool{}
	for _, n := range nodes {
		if records.CheckNodeNamespace(n, r.l.MSPID()) == nil {
			mine[n] = true
		}
	}
	if len(mine) == 0 {
		return 0
	}
	select {
	case <-ctx.Done():
		return 0
	case <-time.After(r.grace):
	}
	done, err := r.l.AuctionReveals(ctx, auction)
	if err != nil {
		r.log.Warn("cannot read reveals", "auction", auction, "err", err)
		return 0
	}
	for _, d := range done {
		delete(mine, d.Terms.Node)
	}
	n := 0
	for node := range mine {
		b, err := r.l.GetBid(ctx, node)
		if err != nil {
			r.log.Warn("cannot read bid", "node", node, "err", err)
			continue
		}
		s, err := Open(b, r.key)
		if err != nil {
			r.log.Warn("cannot open bid", "node", node, "err", err)
			continue
		}
		if _, err := r.l.RevealBid(ctx, s.Reveal(auction)); err != nil && !errors.Is(err, records.ErrConflict) && !errors.Is(err, ledger.ErrConflict) {
			r.log.Warn("backup reveal failed", "node", node, "auction", auction, "err", err)
			continue
		}
		r.log.Info("revealed for an agent that did not", "node", node, "auction", auction)
		n++
	}
	return n
}
