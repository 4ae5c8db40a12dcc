package content

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// LifecycleLedger is what the contract lifecycle needs of the ledger
// (*ledger.Client): the placements' holdings, their last re-auction, the
// holders' SLA scores, and running re-auctions.
type LifecycleLedger interface {
	Holdings(ctx context.Context, root string) ([]*records.Holding, error)
	Reauction(ctx context.Context, root string) (*records.ReauctionMarker, error)
	GetAuction(ctx context.Context, id string) (*records.Auction, error)
	SLAScore(ctx context.Context, node string) (*records.SLAScore, error)
}

// Reauctioneer runs re-auctions (bids.RunReauction) and finishes open
// ones another gateway left (bids.Settle).
type Reauctioneer interface {
	Reaward(ctx context.Context, in records.ReauctionInput) (*records.Auction, error)
	Settle(ctx context.Context, a *records.Auction) (*records.Auction, error)
}

// LifecycleConfig tunes the lifecycle loop.
type LifecycleConfig struct {
	// Interval between scans of this organisation's placements.
	Interval time.Duration
	// RevealSeconds is the reveal window of the re-auctions (0: the
	// chaincode's default).
	RevealSeconds int
}

// Validate checks the configuration.
func (c LifecycleConfig) Validate() error {
	if c.Interval <= 0 {
		return errors.New("lifecycle interval must be positive")
	}
	if c.RevealSeconds < 0 || c.RevealSeconds > records.MaxRevealSeconds {
		return errors.New("lifecycle reveal seconds out of range")
	}
	return nil
}

// Moved is one shard the lifecycle moved onto a re-auction's winner.
type Moved struct {
	Root    string
	Reason  records.EndReason
	Auction string
	Repaired
}

// Lifecycle runs the contract lifecycle of this gateway's organisation's
// placements (records/lifecycle.go): every Interval it re-auctions the
// holdings of a holder that left (deactivated or unregistered) or is
// penalized below the contracts' floor, renews holdings within their
// renewal window, finishes a re-auction another gateway opened and left,
// and moves each shard whose manifest still names a replaced holder onto
// the winner (MoveShard, the repair mechanism). Several gateways may run
// it at once: the chaincode opens one re-auction per placement (the later
// is refused or loses the MVCC race), clears each once, and the moves are
// compare-and-set on the shard's holders.
type Lifecycle struct {
	cfg LifecycleConfig
	l   LifecycleLedger
	ra  Reauctioneer
	log *slog.Logger

	mu      sync.Mutex
	moved   []Moved
	settled []string
}

// NewLifecycle returns a lifecycle loop over l, re-auctioning with ra.
func NewLifecycle(cfg LifecycleConfig, l LifecycleLedger, ra Reauctioneer, log *slog.Logger) (*Lifecycle, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if l == nil || ra == nil {
		return nil, errors.New("lifecycle needs a ledger and a re-auctioneer")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lifecycle{cfg: cfg, l: l, ra: ra, log: log}, nil
}

// Moved lists the shards this gateway moved, oldest first.
func (lc *Lifecycle) Moved() []Moved {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return slices.Clone(lc.moved)
}

// Settled lists the re-auctions this gateway cleared, oldest first.
func (lc *Lifecycle) Settled() []string {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return slices.Clone(lc.settled)
}

// Run scans until ctx ends.
func (lc *Lifecycle) Run(ctx context.Context, svc *Service) {
	t := time.NewTicker(lc.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lc.Scan(ctx, svc)
		}
	}
}

// Scan runs one pass over the placements of svc's organisation.
func (lc *Lifecycle) Scan(ctx context.Context, svc *Service) {
	objs, err := svc.ledger.ListObjects(ctx)
	if err != nil {
		lc.log.Warn("lifecycle: list objects", "err", err)
		return
	}
	msp := svc.ledger.MSPID()
	for _, o := range objs {
		if ctx.Err() != nil {
			return
		}
		ms, err := svc.ledger.ManifestVersions(ctx, o.Name)
		if err != nil {
			continue
		}
		for _, m := range ms {
			if m.IsPurged() || m.Auction == "" || m.Publisher != msp {
				continue
			}
			lc.placement(ctx, svc, m)
		}
	}
}

// placement runs the lifecycle of the placement m names: at most one
// re-auction, then the moves.
func (lc *Lifecycle) placement(ctx context.Context, svc *Service, m *records.Manifest) {
	root := m.Auction
	hs, err := lc.l.Holdings(ctx, root)
	if err != nil {
		lc.log.Warn("lifecycle: holdings", "root", root, "err", err)
		return
	}
	if open := lc.openReauction(ctx, root); open != nil {
		lc.settle(ctx, open)
	} else if in, ok := lc.due(ctx, svc, root, hs); ok {
		// The nodes this gateway cannot reach win nothing: it must move
		// the shards onto the winners.
		if ex, err := svc.Unreachable(ctx, shardSize(m)); err == nil {
			in.Exclude = ex
		}
		a, err := lc.ra.Reaward(ctx, in)
		switch {
		case errors.Is(err, records.ErrConflict) || errors.Is(err, records.ErrFailedPrecondition):
			lc.log.Info("lifecycle: re-auction not opened (another gateway's, or no longer due)", "root", root, "reason", in.Reason, "node", in.Node, "err", err)
		case err != nil:
			lc.log.Warn("lifecycle: re-auction", "root", root, "reason", in.Reason, "node", in.Node, "err", err)
		default:
			lc.log.Info("lifecycle: re-auction cleared", "root", root, "reason", in.Reason, "node", in.Node, "auction", a.ID, "awards", a.Awards)
			lc.mu.Lock()
			lc.settled = append(lc.settled, a.ID)
			lc.mu.Unlock()
		}
		if hs, err = lc.l.Holdings(ctx, root); err != nil {
			return
		}
	}
	lc.move(ctx, svc, m, hs)
}

// openReauction returns the placement's open re-auction, if any.
func (lc *Lifecycle) openReauction(ctx context.Context, root string) *records.Auction {
	mk, err := lc.l.Reauction(ctx, root)
	if err != nil {
		return nil
	}
	a, err := lc.l.GetAuction(ctx, mk.Auction)
	if err != nil || a.Status != records.AuctionOpen {
		return nil
	}
	return a
}

// settle finishes an open re-auction once its reveals are in or its
// deadline passed (the gateway that opened it may have stopped).
func (lc *Lifecycle) settle(ctx context.Context, a *records.Auction) {
	deadline, err := time.Parse(records.TimestampLayout, a.Deadline)
	if err != nil || time.Now().Before(deadline) {
		return // its opener is still waiting for the reveals
	}
	got, err := lc.ra.Settle(ctx, a)
	if err != nil {
		lc.log.Info("lifecycle: settling a re-auction", "auction", a.ID, "err", err)
		return
	}
	lc.log.Info("lifecycle: settled a re-auction another gateway opened", "auction", got.ID, "status", got.Status)
	lc.mu.Lock()
	lc.settled = append(lc.settled, got.ID)
	lc.mu.Unlock()
}

// due returns the re-auction the placement needs, if any: a holder
// deactivated or unregistered, then a holder penalized below its floor,
// then holdings within their renewal window. The chaincode checks the
// same facts; this only saves refused transactions.
func (lc *Lifecycle) due(ctx context.Context, svc *Service, root string, hs []*records.Holding) (records.ReauctionInput, bool) {
	in := records.ReauctionInput{Root: root, RevealSeconds: lc.cfg.RevealSeconds}
	var penalized string
	renew := false
	now := time.Now()
	var window time.Duration
	if a, err := lc.l.GetAuction(ctx, root); err == nil {
		window = records.RenewalWindow(a.TermSeconds)
	}
	for _, h := range hs {
		if !h.Live() {
			continue
		}
		n, err := svc.nodeByID(ctx, h.Node)
		switch {
		case errors.Is(err, errUnregistered) || err == nil && !n.Active():
			in.Node, in.Reason = h.Node, records.EndInactive
			return in, true
		case err != nil:
			continue
		}
		if penalized == "" {
			if s, err := lc.l.SLAScore(ctx, h.Node); err == nil && records.ScoreBelowFloor(*s, max(h.SLAFloor, 1)) {
				penalized = h.Node
			}
		}
		if end, err := time.Parse(records.TimestampLayout, h.End); err == nil && window > 0 && !now.Before(end.Add(-window)) {
			renew = true
		}
	}
	switch {
	case penalized != "":
		in.Node, in.Reason = penalized, records.EndScore
		return in, true
	case renew:
		in.Reason = records.EndRenewed
		return in, true
	}
	return in, false
}

// move moves every shard of m whose holders include a node without a live
// holding onto a live holder the manifest does not list yet.
func (lc *Lifecycle) move(ctx context.Context, svc *Service, m *records.Manifest, hs []*records.Holding) {
	live := map[int][]*records.Holding{}
	for _, h := range hs {
		if h.Live() {
			live[h.Shard] = append(live[h.Shard], h)
		}
	}
	for i, sh := range m.Shards {
		var extra, missing []string
		for _, id := range sh.Nodes {
			if !slices.ContainsFunc(live[i], func(h *records.Holding) bool { return h.Node == id }) {
				extra = append(extra, id)
			}
		}
		var winners []*records.Holding
		for _, h := range live[i] {
			if !slices.Contains(sh.Nodes, h.Node) {
				missing = append(missing, h.Node)
				winners = append(winners, h)
			}
		}
		if len(extra) == 0 || len(missing) == 0 {
			continue
		}
		// One move per shard and scan: the next scan reads the new
		// holders.
		res, err := svc.MoveShard(ctx, m.Name, m.Version, i, extra[0], missing[0])
		switch {
		case errors.Is(err, ErrRepairLost):
			lc.log.Info("lifecycle: move done by another gateway", "object", m.String(), "shard", i)
		case err != nil:
			lc.log.Warn("lifecycle: move failed; retried at the next scan", "object", m.String(), "shard", i, "from", extra[0], "to", missing[0], "err", err)
		case res != nil:
			lc.log.Info("lifecycle: shard moved onto its contracted holder", "object", m.String(), "shard", i, "from", extra[0], "to", missing[0], "tx", res.TxID)
			lc.mu.Lock()
			mv := Moved{Root: m.Auction, Auction: winners[0].Auction, Repaired: *res}
			for _, h := range hs {
				if h.Shard == i && h.Node == extra[0] && !h.Live() {
					mv.Reason = h.EndReason
				}
			}
			lc.moved = append(lc.moved, mv)
			lc.mu.Unlock()
		}
	}
}

// shardSize is the size of each shard of m.
func shardSize(m *records.Manifest) int64 {
	if len(m.Shards) == 0 {
		return 0
	}
	return m.Shards[0].Size
}
