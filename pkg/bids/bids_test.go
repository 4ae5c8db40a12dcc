package bids

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// fakeLedger keeps bids, one auction's snapshot and reveals, with the
// chaincode's checks (hash match, one reveal per node, org of the node).
type fakeLedger struct {
	msp string
	mu  sync.Mutex
	bid map[string]*records.SealedBid
	// auction
	auction *records.Auction
	reveals map[string]*records.Reveal
	revErr  map[string]int // reveal calls per node
	events  chan ledger.AuctionEvent
	cleared int
	// openConflicts makes the next OpenAuction calls lose an MVCC race.
	openConflicts int
}

func newFake(msp string) *fakeLedger {
	return &fakeLedger{msp: msp, bid: map[string]*records.SealedBid{}, reveals: map[string]*records.Reveal{}, revErr: map[string]int{}, events: make(chan ledger.AuctionEvent, 8)}
}

func (f *fakeLedger) MSPID() string { return f.msp }

func (f *fakeLedger) PlaceBid(_ context.Context, in records.BidInput) (*records.SealedBid, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &records.SealedBid{Node: in.Node, Org: f.msp, Hash: in.Hash, Opening: in.Opening, Status: records.BidActive}
	if p, ok := f.bid[in.Node]; ok {
		b.Seq = p.Seq + 1
	}
	f.bid[in.Node] = b
	return b, nil
}

func (f *fakeLedger) WithdrawBid(_ context.Context, node string) (*records.SealedBid, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.bid[node]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "no bid")
	}
	b.Status = records.BidWithdrawn
	return b, nil
}

func (f *fakeLedger) GetBid(_ context.Context, node string) (*records.SealedBid, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.bid[node]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "no bid")
	}
	c := *b
	return &c, nil
}

func (f *fakeLedger) OpenAuction(_ context.Context, in records.AuctionInput) (*records.Auction, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.openConflicts > 0 {
		f.openConflicts--
		return nil, fmt.Errorf("%w: PHANTOM_READ_CONFLICT", ledger.ErrConflict)
	}
	a := &records.Auction{ID: records.AuctionID("tx1"), AuctionInput: in, Status: records.AuctionOpen,
		Deadline: records.FormatTimestamp(time.Now().Add(time.Duration(in.RevealSeconds) * time.Second))}
	var nodes []string
	for _, b := range f.bid {
		if b.Status == records.BidActive {
			a.Bids = append(a.Bids, records.SnapshotBid{Node: b.Node, Org: b.Org, Hash: b.Hash})
			nodes = append(nodes, b.Node)
		}
	}
	slices.Sort(nodes)
	f.auction = a
	f.events <- ledger.AuctionEvent{AuctionEvent: records.AuctionEvent{Auction: a.ID, Object: in.Object, Status: records.AuctionOpen, Nodes: nodes}}
	return a, nil
}

func (f *fakeLedger) RevealBid(_ context.Context, in records.RevealInput) (*records.Reveal, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revErr[in.Terms.Node]++
	if f.auction == nil || f.auction.ID != in.Auction {
		return nil, records.Errorf(records.CodeNotFound, "no auction")
	}
	i := slices.IndexFunc(f.auction.Bids, func(b records.SnapshotBid) bool { return b.Node == in.Terms.Node })
	if i < 0 {
		return nil, records.Errorf(records.CodeNotFound, "no bid")
	}
	if _, ok := f.reveals[in.Terms.Node]; ok {
		return nil, records.Errorf(records.CodeConflict, "already revealed")
	}
	if h, _ := records.BidHash(in.Terms, in.Salt); h != f.auction.Bids[i].Hash {
		return nil, records.Errorf(records.CodeInvalid, "do not match")
	}
	r := &records.Reveal{Auction: in.Auction, Terms: in.Terms, Salt: in.Salt}
	f.reveals[in.Terms.Node] = r
	return r, nil
}

func (f *fakeLedger) AuctionReveals(context.Context, string) ([]*records.Reveal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*records.Reveal
	for _, r := range f.reveals {
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeLedger) ClearAuction(context.Context, string) (*records.Auction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleared++
	a := f.auction
	if len(f.reveals) < len(a.Bids) {
		return nil, records.Errorf(records.CodeFailedPrecondition, "not all revealed")
	}
	in := records.ClearInput{Auction: a, Nodes: map[string]*records.Node{}}
	for n, r := range f.reveals {
		in.Reveals = append(in.Reveals, r)
		in.Nodes[n] = &records.Node{ID: n, Zone: "z", Status: records.NodeStatusActive, StorageBytes: 1 << 30, BandwidthBps: 1e9}
	}
	out := records.ClearAuction(in)
	a.Awards, a.Failure = out.Awards, out.Failure
	a.Status = records.AuctionCleared
	if out.Failure != "" {
		a.Status = records.AuctionFailed
	}
	return a, nil
}

func (f *fakeLedger) AuctionEvents(ctx context.Context) (<-chan ledger.AuctionEvent, error) {
	return f.events, nil
}

var testKey = Key(bytes.Repeat([]byte{3}, 32))

func terms(node string) records.BidTerms {
	return records.BidTerms{Node: node, StoragePerGBMonth: 3, DeliveryPerMiB: 1, CapacityBytes: 1 << 20, BandwidthBps: 1e6}
}

func TestSealOpen(t *testing.T) {
	s, err := Seal(terms("n1-org1"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Input.Validate(); err != nil {
		t.Fatal(err)
	}
	b := &records.SealedBid{Node: "n1-org1", Hash: s.Input.Hash, Opening: s.Input.Opening}
	o, err := Open(b, testKey)
	if err != nil || o.Terms != s.Terms || o.Salt != s.Salt {
		t.Fatalf("opened %+v, %v", o, err)
	}
	tests := []struct {
		name string
		bid  records.SealedBid
		key  Key
	}{
		{"wrong key", *b, Key(bytes.Repeat([]byte{4}, 32))},
		{"short key", *b, Key{1}},
		{"another node's opening", records.SealedBid{Node: "n2-org1", Hash: b.Hash, Opening: b.Opening}, testKey},
		{"hash of other terms", records.SealedBid{Node: "n1-org1", Hash: records.AuctionID("x"), Opening: b.Opening}, testKey},
		{"no opening", records.SealedBid{Node: "n1-org1", Hash: b.Hash}, testKey},
		{"garbage", records.SealedBid{Node: "n1-org1", Hash: b.Hash, Opening: "AAAA"}, testKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Open(&tt.bid, tt.key); !errors.Is(err, ErrOpening) && !errors.Is(err, ErrKey) {
				t.Fatalf("got %v, want ErrOpening or ErrKey", err)
			}
		})
	}
	// Without a key, no opening is published.
	s, err = Seal(terms("n1-org1"), nil)
	if err != nil || s.Input.Opening != "" {
		t.Fatalf("sealed without key: %+v %v", s.Input, err)
	}
}

func TestBidderRebidsOnMaterialChange(t *testing.T) {
	f := newFake("Org1MSP")
	b, err := NewBidder("n1-org1", 1e6, Policy{StoragePerGBMonth: 2, DeliveryPerMiB: 1, RebidPercent: 10}, testKey, f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, step := range []struct {
		free int64
		bid  bool
	}{{1000, true}, {950, false}, {901, false}, {899, true}, {899, false}, {1000, true}} {
		placed, err := b.Update(ctx, step.free)
		if err != nil || placed != step.bid {
			t.Fatalf("free %d: placed %v (%v), want %v", step.free, placed, err, step.bid)
		}
	}
	if got := f.bid["n1-org1"].Seq; got != 2 {
		t.Fatalf("seq %d, want 2 (three bids)", got)
	}
	for _, bad := range []Policy{{RebidPercent: 0}, {StoragePerGBMonth: -1, RebidPercent: 5}, {DeliveryPerMiB: records.MaxBidPrice + 1, RebidPercent: 5}} {
		if _, err := NewBidder("n1-org1", 1e6, bad, nil, f, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("policy %+v accepted", bad)
		}
	}
}

// The agent reveals its node's bid on the open event; the gateway's
// revealer reveals, from the opening, the bid of a node whose agent is
// down, and only its own organisation's; the auction then clears.
func TestRevealAndClear(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFake("Org1MSP")
	log := slog.New(slog.DiscardHandler)
	pol := Policy{StoragePerGBMonth: 2, DeliveryPerMiB: 1, RebidPercent: 10}
	var up []*Bidder
	for i := range 3 {
		b, err := NewBidder(fmt.Sprintf("n%d-org1", i), 1e6, pol, testKey, f, log)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Update(ctx, 1<<20); err != nil {
			t.Fatal(err)
		}
		up = append(up, b)
	}
	// n3-org2 is another organisation's (the revealer must leave it).
	other, _ := Seal(terms("n3-org2"), Key(bytes.Repeat([]byte{9}, 32)))
	if _, err := f.PlaceBid(ctx, other.Input); err != nil {
		t.Fatal(err)
	}
	// Only n0's and n1's agents run.
	go up[0].Run(ctx, time.Hour, func() int64 { return 1 << 20 })
	a, err := f.OpenAuction(ctx, records.AuctionInput{Object: "o", Shards: 3, K: 2, ShardSize: 10, TermSeconds: 60, MaxStoragePerGBMonth: 5, MaxDeliveryPerMiB: 5, RevealSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := up[1].Reveal(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	r, err := NewRevealer(f, testKey, 10*time.Millisecond, log)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.reveals)
		f.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := r.RevealMissing(ctx, a.ID, []string{"n0-org1", "n1-org1", "n2-org1", "n3-org2"}); got != 1 {
		t.Fatalf("the revealer revealed %d bids, want 1 (n2-org1)", got)
	}
	if _, ok := f.reveals["n2-org1"]; !ok {
		t.Fatal("n2-org1 not revealed")
	}
	if f.revErr["n3-org2"] != 0 {
		t.Fatal("the revealer tried another organisation's bid")
	}
	// A second reveal of the same bid is a no-op for the bidder.
	if err := up[0].Reveal(ctx, a.ID); err != nil {
		t.Fatalf("repeated reveal: %v", err)
	}
}

func TestRunAuction(t *testing.T) {
	ctx := context.Background()
	f := newFake("Org1MSP")
	f.openConflicts = 2 // a bid committed in the same block, twice
	var sealed []Sealed
	for i := range 4 {
		s, _ := Seal(terms(fmt.Sprintf("n%d-org1", i)), nil)
		f.PlaceBid(ctx, s.Input)
		sealed = append(sealed, s)
	}
	// Reveal in the background, after the auction opened.
	go func() {
		ev := <-f.events
		for _, s := range sealed {
			time.Sleep(5 * time.Millisecond)
			f.RevealBid(ctx, s.Reveal(ev.Auction))
		}
	}()
	in := records.AuctionInput{Object: "o", Shards: 3, K: 2, ShardSize: 10, TermSeconds: 60, MaxStoragePerGBMonth: 5, MaxDeliveryPerMiB: 5, RevealSeconds: 5}
	a, err := RunAuction(ctx, f, in, 2*time.Millisecond)
	if err != nil || a.Status != records.AuctionCleared || len(a.Awards) != 3 {
		t.Fatalf("auction %+v, %v", a, err)
	}
	if f.cleared != 1 {
		t.Fatalf("cleared %d times, want once all were revealed", f.cleared)
	}
	// Too few bids: ErrNoContracts with the reason.
	f2 := newFake("Org1MSP")
	s, _ := Seal(terms("n0-org1"), nil)
	f2.PlaceBid(ctx, s.Input)
	go func() {
		ev := <-f2.events
		f2.RevealBid(ctx, s.Reveal(ev.Auction))
	}()
	a, err = RunAuction(ctx, f2, in, 2*time.Millisecond)
	if !errors.Is(err, ErrNoContracts) || a == nil || a.Failure == "" {
		t.Fatalf("got %+v, %v; want ErrNoContracts", a, err)
	}
}
