package content_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

// fakeAuction clears every auction at once over the ledger's nodes with
// the rules of the chaincode (records.ClearAuction): node n<i> bids
// storage price prices[i] (absent: not bidding).
type fakeAuction struct {
	l      *contenttest.Ledger
	prices map[string]int64
	award  func(*records.Auction) // tampers with the outcome when set

	mu   sync.Mutex
	seen []records.AuctionInput
}

func (f *fakeAuction) Award(ctx context.Context, in records.AuctionInput) (*records.Auction, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.seen = append(f.seen, in)
	f.mu.Unlock()
	nodes, _ := f.l.ListNodes(ctx)
	a := &records.Auction{ID: records.AuctionID(fmt.Sprint(len(f.seen))), AuctionInput: in, Status: records.AuctionOpen}
	ci := records.ClearInput{Auction: a, Nodes: map[string]*records.Node{}}
	for _, n := range nodes {
		p, ok := f.prices[n.ID]
		if !ok {
			continue
		}
		reg := *n // registered with room: the bid's terms decide
		reg.StorageBytes, reg.BandwidthBps = 1<<40, 1e12
		ci.Nodes[n.ID] = &reg
		a.Bids = append(a.Bids, records.SnapshotBid{Node: n.ID})
		ci.Reveals = append(ci.Reveals, &records.Reveal{Terms: records.BidTerms{Node: n.ID, StoragePerGBMonth: p, CapacityBytes: 1 << 30, BandwidthBps: 1e9}})
	}
	out := records.ClearAuction(ci)
	if out.Failure != "" {
		a.Status, a.Failure = records.AuctionFailed, out.Failure
		return a, fmt.Errorf("auction failed: %s", out.Failure)
	}
	a.Status, a.Awards = records.AuctionCleared, out.Awards
	if f.award != nil {
		f.award(a)
	}
	return a, nil
}

var auctionTerms = content.AuctionTerms{TermSeconds: 3600, MaxStoragePerGBMonth: 100, MaxDeliveryPerMiB: 100}

func TestPublishPlacesAsContracted(t *testing.T) {
	ctx := context.Background()
	l := contenttest.NewLedger("Org1MSP", 8)
	// k=4, m=2, r=1: at most 2 shards per node, 3 per zone (2 zones).
	fa := &fakeAuction{l: l, prices: map[string]int64{"n0": 50, "n1": 1, "n2": 2, "n3": 3, "n4": 4, "n5": 60, "n6": 70}}
	s, err := content.New(testConfig(nil), l, contenttest.NewAgents(l, 1<<30), nil, content.WithAuction(fa, auctionTerms))
	if err != nil {
		t.Fatal(err)
	}
	body := payload(9000)
	pub, err := s.Publish(ctx, "site/app.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// Spread first, cheapest first: n1..n4, then n0 and n5 (zones
	// alternate, n0 z0, n1 z1, …, at most 3 shards per zone); n6 loses.
	got := make([]string, len(pub.Manifest.Shards))
	for i, sh := range pub.Manifest.Shards {
		got[i] = strings.Join(sh.Nodes, ",")
	}
	if want := "n1 n2 n3 n4 n0 n5"; strings.Join(got, " ") != want {
		t.Fatalf("holders %v, want %s", got, want)
	}
	if pub.Manifest.Auction != records.AuctionID("1") {
		t.Fatalf("manifest names auction %q", pub.Manifest.Auction)
	}
	in := fa.seen[0]
	if in.Object != "site/app.js" || in.Shards != 6 || in.K != 4 || in.Replicas != 1 || in.ShardSize != pub.Layout.ShardSize() || in.TermSeconds != 3600 {
		t.Fatalf("auction input %+v", in)
	}
	readBack(t, s, pub.Manifest, body)
}

func TestPublishAuctionFailuresLeaveNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		prices map[string]int64
		setup  func(*contenttest.Agents)
		award  func(*records.Auction)
		want   error
		msg    string
	}{
		{"too few bids", map[string]int64{"n1": 1, "n2": 2}, nil, nil, content.ErrNoPlacement, "can fill 4 of 6"},
		{"a contracted agent refuses the upload", map[string]int64{"n1": 1, "n2": 2, "n3": 3, "n4": 4}, func(a *contenttest.Agents) { a.Get("n3").SetRefuseUploads(true) }, nil, content.ErrUpload, "n3"},
		{"an unreachable agent is excluded", map[string]int64{"n1": 1, "n2": 2, "n3": 3, "n4": 4}, func(a *contenttest.Agents) { a.Get("n2").SetDown(true) }, nil, content.ErrNoPlacement, "1 unreachable by the publisher"},
		{"contracts name an unusable node", map[string]int64{"n1": 1, "n2": 2, "n3": 3, "n4": 4, "n5": 5}, func(a *contenttest.Agents) { a.Get("n5").SetDown(true) }, func(a *records.Auction) {
			a.Awards[len(a.Awards)-1].Node = "n5"
		}, content.ErrNoPlacement, "n5 is not usable"},
		{"contracts break the k rule", map[string]int64{"n1": 1, "n2": 2, "n3": 3, "n4": 4}, nil, func(a *records.Auction) {
			for i := range a.Awards {
				a.Awards[i].Node = "n1"
			}
		}, content.ErrNoPlacement, "holds 3 shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := contenttest.NewLedger("Org1MSP", 8)
			ag := contenttest.NewAgents(l, 1<<30)
			if tt.setup != nil {
				tt.setup(ag)
			}
			fa := &fakeAuction{l: l, prices: tt.prices, award: tt.award}
			s, err := content.New(testConfig(nil), l, ag, nil, content.WithAuction(fa, auctionTerms))
			if err != nil {
				t.Fatal(err)
			}
			body := payload(9000)
			_, err = s.Publish(ctx, "x/y.css", "", int64(len(body)), bytes.NewReader(body))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Publish() = %v, want %v naming %q", err, tt.want, tt.msg)
			}
			if n := ag.ShardCount(); n != 0 {
				t.Fatalf("%d shards left behind", n)
			}
			if n := l.ManifestCount(); n != 0 {
				t.Fatalf("%d manifests recorded", n)
			}
		})
	}
}
