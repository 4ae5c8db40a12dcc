//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/auctionaudit"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestAuction runs a sealed-bid auction on the real network: four nodes
// (two per organisation) bid through their organisation's admin, three
// bidders reveal on the open event, the fourth's bid is revealed by its
// organisation's revealer from the opening on the ledger, and Org1's
// gateway identity opens and clears the auction. The contracts go to the
// cheapest nodes at the first losing bid's price, every peer (the AND
// policy) endorsed the same clearing, and the writes are refused to the
// wrong organisation, twice, and after the clearing.
func TestAuction(t *testing.T) {
	ctx := ctxT(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	admins := []*ledger.Client{adminClient(t, shared, 0), adminClient(t, shared, 1)}
	keys := make([]bids.Key, 2)
	for i := range keys {
		b, err := os.ReadFile(shared.Orgs[i].BidKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = b
	}
	type bidder struct {
		id    string
		org   int
		price int64
		b     *bids.Bidder
	}
	var bs []*bidder
	for i, price := range []int64{30, 10, 40, 20} {
		org := i % 2
		id := fmt.Sprintf("au-%d-%s", i, records.OrgSlug(admins[org].MSPID()))
		if _, err := admins[org].RegisterNode(ctx, nodeInput(t, id, fmt.Sprintf("au-zone-%d", org), 9500+i)); err != nil {
			t.Fatal(err)
		}
		b, err := bids.NewBidder(id, 1e9, bids.Policy{StoragePerGBMonth: price, DeliveryPerMiB: 1, RebidPercent: 10}, keys[org], admins[org], log)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Update(ctx, 1<<30); err != nil {
			t.Fatal(err)
		}
		bs = append(bs, &bidder{id: id, org: org, price: price, b: b})
	}
	// Refusal: a bid for another organisation's node.
	s, _ := bids.Seal(records.BidTerms{Node: bs[0].id, StoragePerGBMonth: 1, CapacityBytes: 1, BandwidthBps: 1}, nil)
	_, err := admins[1].PlaceBid(ctx, s.Input)
	wantCode(t, "bid for another org's node", err, records.ErrForbidden)

	// Bidders 0..2 follow the auctions; 3 (au-3-org2, price 20) is "down":
	// Org2's revealer reveals it.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, b := range bs[:3] {
		go b.b.Run(rctx, time.Hour, func() int64 { return 1 << 30 })
	}
	rv, err := bids.NewRevealer(admins[1], keys[1], 500*time.Millisecond, log)
	if err != nil {
		t.Fatal(err)
	}
	go rv.Run(rctx)
	// The subscriptions deliver the blocks committed after their request:
	// wait for the requests, then for one more committed block.
	for _, b := range bs[:3] {
		waitClosed(t, ctx, b.b.Subscribed())
	}
	waitClosed(t, ctx, rv.Subscribed())
	if _, err := bs[0].b.Update(ctx, 1<<29); err != nil { // a material change: a new bid, a new block
		t.Fatal(err)
	}

	gw, _ := identityClient(t, shared, 0, testnetwork.RoleGateway)
	in := records.AuctionInput{Object: "it/auction.bin", Shards: 3, K: 2, ShardSize: 1 << 20, TermSeconds: 3600,
		Zones: []string{"au-zone-0", "au-zone-1"}, MaxStoragePerGBMonth: 100, MaxDeliveryPerMiB: 10, RevealSeconds: 20}
	start := time.Now()
	a, err := bids.RunAuction(ctx, gw, in, 20*time.Millisecond)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("auction of %d bids (one revealed by the organisation's gateway) cleared in %v", len(a.Bids), took)
	// Other auctions' leftovers (bids of other tests) are not ours: only
	// our four bid in these zones.
	got := map[string]bool{}
	for _, w := range a.Awards {
		got[w.Node] = true
	}
	want := []string{bs[1].id, bs[3].id, bs[0].id} // prices 10, 20, 30
	for _, id := range want {
		if !got[id] {
			t.Errorf("%s won nothing: awards %+v", id, a.Awards)
		}
	}
	if a.StoragePerGBMonth != 40 || a.DeliveryPerMiB != 1 {
		t.Errorf("prices %d/%d, want 40/1 (the first losing bid)", a.StoragePerGBMonth, a.DeliveryPerMiB)
	}
	if took > 10*time.Second {
		t.Errorf("the auction took %v: it must clear in seconds (the reveal window is 20s)", took)
	}
	// Every organisation reads the same contracts.
	c0, err := admins[0].AuctionContracts(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := admins[1].AuctionContracts(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c0) != 3 || fmt.Sprint(c0) != fmt.Sprint(c1) {
		t.Fatalf("contracts on Org1's peer %v, Org2's %v", c0, c1)
	}
	for _, c := range c0 {
		if c.Publisher != admins[0].MSPID() || c.StoragePerGBMonth != 40 || c.Object != in.Object {
			t.Errorf("contract %+v", c)
		}
	}
	// The auditor's offline recomputation (dct audit verify-auction's
	// code), from Org2's peer: the clearing's recorded inputs and the
	// reveals give the stored awards, prices and contracts, and each
	// recorded score is the one in force in the node's history.
	verifyAuction(t, ctx, admins[1], a.ID)
	// The down node's bid was revealed by Org2's revealer.
	rs, err := admins[0].AuctionReveals(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rs, func(r *records.Reveal) bool { return r.Terms.Node == bs[3].id }) {
		t.Errorf("%s was not revealed", bs[3].id)
	}

	// Refusals after the clearing.
	_, err = admins[0].ClearAuction(ctx, a.ID)
	wantCode(t, "clear twice", err, records.ErrFailedPrecondition)
	_, err = admins[1].ClearAuction(ctx, a.ID)
	wantCode(t, "clear by another org", err, records.ErrForbidden)
	_, err = admins[1].RevealBid(ctx, records.RevealInput{Auction: a.ID, Terms: records.BidTerms{Node: bs[0].id, StoragePerGBMonth: 30, DeliveryPerMiB: 1, CapacityBytes: 1 << 30, BandwidthBps: 1e9}, Salt: fmt.Sprintf("%064x", 1)})
	wantCode(t, "reveal another org's bid", err, records.ErrForbidden)
	_, err = admins[0].RevealBid(ctx, bs[0].b.Sealed()[0].Reveal(a.ID))
	wantCode(t, "reveal after the clearing", err, records.ErrFailedPrecondition)

	// Too few bids: a clean failure naming what is missing, no contract.
	in.Object, in.Shards, in.K = "it/auction-big.bin", 10, 8 // at most 2 shards per node
	fa, err := bids.RunAuction(ctx, gw, in, 20*time.Millisecond)
	if !errors.Is(err, bids.ErrNoContracts) || fa == nil || fa.Status != records.AuctionFailed {
		t.Fatalf("auction of 10 shards over 4 bids: %+v, %v", fa, err)
	}
	t.Logf("failure: %s", fa.Failure)
	if cs, err := admins[0].AuctionContracts(ctx, fa.ID); err != nil || len(cs) != 0 {
		t.Fatalf("a failed auction has contracts %v (%v)", cs, err)
	}
	verifyAuction(t, ctx, admins[0], fa.ID)
	stop()
	// Leave: the bids are withdrawn.
	for _, b := range bs {
		if err := b.b.Withdraw(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyAuction recomputes auction id from src's ledger as an auditor
// does and fails on any mismatch.
func verifyAuction(t *testing.T, ctx context.Context, src auctionaudit.Evidence, id string) {
	t.Helper()
	ev, err := auctionaudit.CollectEvidence(ctx, src, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Auction.Inputs) == 0 {
		t.Fatalf("the clearing of %s recorded no inputs", id)
	}
	cs := auctionaudit.Verify(ev)
	for _, c := range cs {
		if !c.OK {
			t.Errorf("verify-auction %s: %s", id, c)
		}
	}
	t.Logf("verify-auction %s: %d checks, all match: %v", id, len(cs), auctionaudit.OK(cs))
}

// waitClosed waits for ch to close.
func waitClosed(t *testing.T, ctx context.Context, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}
