package content_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

// fakeContracts keeps the holdings of placements and clears re-auctions
// with the chaincode's rules (records.ClearAuction over a Replacement, as
// auction:Reopen and auction:Clear build it), every node bidding its
// price; it checks each reason against the fake ledger as the chaincode
// does.
type fakeContracts struct {
	l      *contenttest.Ledger
	prices map[string]int64
	scores map[string]records.SLAScore
	term   int64

	mu       sync.Mutex
	holdings map[string][]*records.Holding // by root
	auctions map[string]*records.Auction
	reopened []records.ReauctionInput
}

func newFakeContracts(l *contenttest.Ledger, prices map[string]int64) *fakeContracts {
	return &fakeContracts{l: l, prices: prices, scores: map[string]records.SLAScore{}, term: 3600,
		holdings: map[string][]*records.Holding{}, auctions: map[string]*records.Auction{}}
}

// root records the placement of a published manifest.
func (f *fakeContracts) root(m *records.Manifest, in records.AuctionInput) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = in.Validate()
	f.auctions[m.Auction] = &records.Auction{ID: m.Auction, AuctionInput: in, Status: records.AuctionCleared}
	end := records.FormatTimestamp(time.Now().Add(time.Duration(in.TermSeconds) * time.Second))
	for i, sh := range m.Shards {
		for _, n := range sh.Nodes {
			f.holdings[m.Auction] = append(f.holdings[m.Auction], &records.Holding{Root: m.Auction, Shard: i, Node: n, Auction: m.Auction, End: end, SLAFloor: in.SLAFloor})
		}
	}
}

func (f *fakeContracts) Holdings(_ context.Context, root string) ([]*records.Holding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []*records.Holding{}
	for _, h := range f.holdings[root] {
		c := *h
		out = append(out, &c)
	}
	return out, nil
}

func (f *fakeContracts) Reauction(context.Context, string) (*records.ReauctionMarker, error) {
	return nil, records.ErrNotFound
}

func (f *fakeContracts) GetAuction(_ context.Context, id string) (*records.Auction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.auctions[id]; ok {
		return a, nil
	}
	return nil, records.ErrNotFound
}

func (f *fakeContracts) SLAScore(_ context.Context, node string) (*records.SLAScore, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.scores[node]
	if !ok {
		s = records.UnscoredSLA(node)
	}
	return &s, nil
}

func (f *fakeContracts) Settle(context.Context, *records.Auction) (*records.Auction, error) {
	return nil, errors.New("no open re-auction in this fake")
}

func (f *fakeContracts) Reaward(ctx context.Context, in records.ReauctionInput) (*records.Auction, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	nodes, _ := f.l.ListNodes(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reopened = append(f.reopened, in)
	root := f.auctions[in.Root]
	switch in.Reason {
	case records.EndInactive:
		for _, n := range nodes {
			if n.ID == in.Node && n.Active() {
				return nil, fmt.Errorf("%w: %s is active", records.ErrFailedPrecondition, n.ID)
			}
		}
	case records.EndScore:
		if !records.ScoreBelowFloor(f.scores[in.Node], root.SLAFloor) {
			return nil, fmt.Errorf("%w: %s is not penalized below the floor", records.ErrFailedPrecondition, in.Node)
		}
	default:
		return nil, fmt.Errorf("%w: no renewal in this fake", records.ErrFailedPrecondition)
	}
	rep := &records.Replacement{Root: in.Root, Reason: in.Reason, Node: in.Node}
	for _, h := range f.holdings[in.Root] {
		switch {
		case !h.Live():
		case h.Node == in.Node:
			rep.Replaced = append(rep.Replaced, records.Award{Shard: h.Shard, Node: h.Node})
		default:
			rep.Held = append(rep.Held, records.Award{Shard: h.Shard, Node: h.Node})
		}
	}
	a := &records.Auction{ID: records.AuctionID(fmt.Sprint("re", len(f.reopened))), AuctionInput: root.AuctionInput, Replaces: rep, Status: records.AuctionOpen}
	ci := records.ClearInput{Auction: a, Nodes: map[string]*records.Node{}, Scores: f.scores}
	for _, n := range nodes {
		p, ok := f.prices[n.ID]
		if !ok || !n.Active() {
			continue
		}
		reg := *n
		reg.StorageBytes, reg.BandwidthBps = 1<<40, 1e12
		ci.Nodes[n.ID] = &reg
		a.Bids = append(a.Bids, records.SnapshotBid{Node: n.ID})
		ci.Reveals = append(ci.Reveals, &records.Reveal{Terms: records.BidTerms{Node: n.ID, StoragePerGBMonth: p, CapacityBytes: 1 << 30, BandwidthBps: 1e9}})
	}
	out := records.ClearAuction(ci)
	if out.Failure != "" {
		a.Status, a.Failure = records.AuctionFailed, out.Failure
		return a, fmt.Errorf("re-auction failed: %s", out.Failure)
	}
	a.Status, a.Awards = records.AuctionCleared, out.Awards
	f.auctions[a.ID] = a
	now := records.FormatTimestamp(time.Now())
	for _, h := range f.holdings[in.Root] {
		if h.Live() && h.Node == in.Node {
			h.EndedAt, h.EndReason, h.Successor = now, in.Reason, a.ID
		}
	}
	end := records.FormatTimestamp(time.Now().Add(time.Duration(root.TermSeconds) * time.Second))
	for _, w := range a.Awards {
		f.holdings[in.Root] = append(f.holdings[in.Root], &records.Holding{Root: in.Root, Shard: w.Shard, Node: w.Node, Auction: a.ID, End: end, SLAFloor: root.SLAFloor})
	}
	return a, nil
}

// A holder that leaves, then one penalized below the floor, lose their
// contracts; the lifecycle re-auctions them, moves the shards onto the
// winners, and the object reads back byte-identical. Healthy and warned
// holders keep theirs, and a second scan changes nothing.
func TestLifecycleReauctionsAndMoves(t *testing.T) {
	ctx := context.Background()
	l := contenttest.NewLedger("Org1MSP", 8)
	prices := map[string]int64{"n0": 50, "n1": 1, "n2": 2, "n3": 3, "n4": 4, "n5": 60, "n6": 70, "n7": 80}
	fa := &fakeAuction{l: l, prices: prices}
	ag := contenttest.NewAgents(l, 1<<30)
	s, err := content.New(testConfig(func(c *content.Config) { c.NodesTTL = 0 }), l, ag, nil, content.WithAuction(fa, auctionTerms))
	if err != nil {
		t.Fatal(err)
	}
	body := payload(9000)
	pub, err := s.Publish(ctx, "site/app.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeContracts(l, prices)
	fc.root(pub.Manifest, fa.seen[0])
	lc, err := content.NewLifecycle(content.LifecycleConfig{Interval: time.Second}, fc, fc, nil)
	if err != nil {
		t.Fatal(err)
	}
	holders := func() string {
		m, err := l.GetManifest(ctx, "site/app.js", pub.Manifest.Version)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, sh := range m.Shards {
			out += fmt.Sprint(sh.Nodes)
		}
		return out
	}
	before := holders() // n1 n2 n3 n4 n0 n5 (see TestPublishPlacesAsContracted)
	fc.scores["n2"] = records.SLAScore{Node: "n2", Score: 5000, State: records.SLAStateWarning}
	lc.Scan(ctx, s)
	if len(fc.reopened) != 0 || holders() != before {
		t.Fatalf("healthy and warned holders: re-auctions %v, holders %s (were %s)", fc.reopened, holders(), before)
	}
	steps := []struct {
		name   string
		change func()
		reason records.EndReason
		node   string
		want   string
	}{
		// n1 leaves: its shard 0 goes to the cheapest node holding
		// nothing, n6 (n0, n5 hold one shard each already... spread
		// first).
		{"holder deactivated", func() { l.SetNodeStatus("n1", records.NodeStatusInactive) }, records.EndInactive, "n1", "[n6][n2][n3][n4][n0][n5]"},
		{"holder penalized below the floor", func() {
			fc.mu.Lock()
			fc.scores["n3"] = records.SLAScore{Node: "n3", Score: 2000, State: records.SLAStatePenalized}
			fc.mu.Unlock()
		}, records.EndScore, "n3", "[n6][n2][n7][n4][n0][n5]"},
	}
	for _, st := range steps {
		n := len(fc.reopened)
		st.change()
		lc.Scan(ctx, s)
		if len(fc.reopened) != n+1 || fc.reopened[n].Reason != st.reason || fc.reopened[n].Node != st.node {
			t.Fatalf("%s: re-auctions %+v", st.name, fc.reopened)
		}
		if got := holders(); got != st.want {
			t.Fatalf("%s: holders %s, want %s", st.name, got, st.want)
		}
		mv := lc.Moved()
		if last := mv[len(mv)-1]; last.Reason != st.reason || last.Lost[0] != st.node {
			t.Fatalf("%s: moved %+v", st.name, last)
		}
		m, _ := l.GetManifest(ctx, "site/app.js", pub.Manifest.Version)
		readBack(t, s, m, body)
	}
	// Nothing more to do.
	n, moved := len(fc.reopened), len(lc.Moved())
	lc.Scan(ctx, s)
	if len(fc.reopened) != n || len(lc.Moved()) != moved {
		t.Fatalf("a quiet scan re-auctioned %v or moved %v", fc.reopened[n:], lc.Moved()[moved:])
	}
}
