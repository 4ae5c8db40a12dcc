//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
)

// fiftyBidders is the number of bidding agents of TestAuctionFiftyBidders.
const fiftyBidders = 50

// TestAuctionFiftyBidders runs the market with 50 in-process bidding
// agents speaking the real protocol (bids.Bidder: sealed bids with their
// openings, reveals on the open event) on the real network:
//
//   - 50 sealed bids placed at once: the bids accepted per second and 0
//     MVCC conflicts (each bid is its node's own key);
//   - refusals of bids from an unregistered and a deactivated node, of a
//     malformed bid, of a reveal over the capacity limit, of a late bid
//     (placed after the auction opened);
//   - the clearing, simulated on every organisation's peer before it is
//     submitted, is the same on each, equals what the AND-endorsed Clear
//     stored (read back from every peer) and the auditor's offline
//     recomputation (dct audit verify-auction's code); its chaincode time
//     is the evaluate of auction:Clear less the evaluate of auction:Get;
//   - cheaper-and-better nodes win: the cheapest bid, from a node far
//     from where the content is requested, loses to nearer ones;
//   - a winner that leaves loses its contract: the re-auction
//     (auction:Reopen, reason inactive) awards its shard to another node
//     under the placement rules, ends the old contract, recomputes to a
//     match, and is refused for a healthy node, to another organisation
//     and twice.
//
// One lying organisation cannot sink a node: TestSLAOneLyingOrg.
func TestAuctionFiftyBidders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	orgs := len(shared.Orgs)
	admins := make([]*ledger.Client, orgs)
	keys := make([]bids.Key, orgs)
	for i := range orgs {
		admins[i] = adminClient(t, shared, i)
		b, err := os.ReadFile(shared.Orgs[i].BidKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = b
	}
	// Node i of org i%orgs, zone fb-zone-(i%2), price 20+i; node 0 bids
	// the lowest price, 15, but sits in Sydney, far from the content's
	// requesters in Zurich.
	type bidder struct {
		id    string
		org   int
		price int64
		b     *bids.Bidder
	}
	bs := make([]*bidder, fiftyBidders)
	for i := range bs {
		org := i % orgs
		bs[i] = &bidder{id: fmt.Sprintf("fb-%02d-%s", i, records.OrgSlug(admins[org].MSPID())), org: org, price: int64(20 + i)}
	}
	bs[0].price = 15
	regs := make([]records.NodeInput, len(bs))
	for i, b := range bs {
		regs[i] = nodeInput(t, b.id, fmt.Sprintf("fb-zone-%d", i%2), 12000+i)
	}
	regs[0].Latitude, regs[0].Longitude = -33.87, 151.21
	parallel(t, len(bs), 10, func(i int) error {
		_, err := admins[bs[i].org].RegisterNode(ctx, regs[i])
		return err
	})
	for _, b := range bs {
		bb, err := bids.NewBidder(b.id, 1e9, bids.Policy{StoragePerGBMonth: b.price, DeliveryPerMiB: 1, RebidPercent: 10}, keys[b.org], admins[b.org], log)
		if err != nil {
			t.Fatal(err)
		}
		b.b = bb
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, b := range bs {
			_ = b.b.Withdraw(cctx) // later auctions of the shared network leave them out
		}
	})

	// 50 sealed bids at once.
	var conflicts int
	var mu sync.Mutex
	start := time.Now()
	parallel(t, len(bs), len(bs), func(i int) error {
		_, err := bs[i].b.Update(ctx, 1<<30)
		if errors.Is(err, ledger.ErrConflict) {
			mu.Lock()
			conflicts++
			mu.Unlock()
		}
		return err
	})
	took := time.Since(start)
	t.Logf("FIGURE bids accepted per second, %d bidders at once: %.1f bids/s (%d in %v), %d MVCC conflicts (target 0)",
		len(bs), float64(len(bs))/took.Seconds(), len(bs), took.Round(time.Millisecond), conflicts)
	if conflicts != 0 {
		t.Errorf("%d MVCC conflicts between bids on distinct keys", conflicts)
	}

	// Refusals of bids.
	sealed := func(node string, capacity int64) bids.Sealed {
		s, err := bids.Seal(records.BidTerms{Node: node, StoragePerGBMonth: 1, DeliveryPerMiB: 1, CapacityBytes: capacity, BandwidthBps: 1e9}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ghost := "fb-ghost-" + records.OrgSlug(admins[0].MSPID())
	_, err := admins[0].PlaceBid(ctx, sealed(ghost, 1<<30).Input)
	wantCode(t, "bid of an unregistered node", err, records.ErrNotFound)
	gone := "fb-gone-" + records.OrgSlug(admins[0].MSPID())
	if _, err := admins[0].RegisterNode(ctx, nodeInput(t, gone, "fb-zone-0", 12100)); err != nil {
		t.Fatal(err)
	}
	if _, err := admins[0].DeactivateNode(ctx, gone, "leaving"); err != nil {
		t.Fatal(err)
	}
	_, err = admins[0].PlaceBid(ctx, sealed(gone, 1<<30).Input)
	wantCode(t, "bid of a deactivated node", err, records.ErrFailedPrecondition)
	_, err = admins[0].PlaceBid(ctx, records.BidInput{Node: bs[0].id, Hash: "not-a-hash"})
	wantCode(t, "malformed bid", err, records.ErrInvalid)

	// Every bidder follows the auctions and reveals on the open event;
	// each organisation's revealer reveals what its nodes did not.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, b := range bs {
		go b.b.Run(rctx, time.Hour, func() int64 { return 1 << 30 })
	}
	for i := range orgs {
		rv, err := bids.NewRevealer(admins[i], keys[i], 2*time.Second, log)
		if err != nil {
			t.Fatal(err)
		}
		go rv.Run(rctx)
		waitClosed(t, ctx, rv.Subscribed())
	}
	for _, b := range bs {
		waitClosed(t, ctx, b.b.Subscribed())
	}
	if _, err := bs[1].b.Update(ctx, 1<<29); err != nil { // a new block after the subscriptions
		t.Fatal(err)
	}

	gw, gwID := identityClient(t, shared, 0, testnetwork.RoleGateway)
	gwSigner, err := gwID.Signer(shared.Orgs[0].MSPID)
	if err != nil {
		t.Fatal(err)
	}
	// The publisher's gateway identity on every organisation's peer.
	onPeer := make([]*ledger.Client, orgs)
	for i := range orgs {
		onPeer[i] = clientAs(t, shared, i, gwSigner)
	}
	in := records.AuctionInput{Object: "it/fifty.bin", Shards: 6, K: 4, ShardSize: 1 << 20, TermSeconds: 3600,
		Zones: []string{"fb-zone-0", "fb-zone-1"}, MaxStoragePerGBMonth: 100, MaxDeliveryPerMiB: 10,
		HasLocation: true, Latitude: 47.37, Longitude: 8.54, RevealSeconds: 30}
	var a *records.Auction
	for try := 0; ; try++ {
		if a, err = gw.OpenAuction(ctx, in); err == nil || !errors.Is(err, ledger.ErrConflict) || try == 5 {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	// A late bid: placed after the auction opened, it is not in it.
	late := "fb-late-" + records.OrgSlug(admins[0].MSPID())
	if _, err := admins[0].RegisterNode(ctx, nodeInput(t, late, "fb-zone-0", 12101)); err != nil {
		t.Fatal(err)
	}
	ls := sealed(late, 1<<30)
	if _, err := admins[0].PlaceBid(ctx, ls.Input); err != nil {
		t.Fatal(err)
	}
	_, err = admins[0].RevealBid(ctx, ls.Reveal(a.ID))
	wantCode(t, "reveal of a late bid", err, records.ErrNotFound)
	// A reveal over the capacity limit is refused (its hash cannot
	// match a bid either).
	over := ls.Reveal(a.ID)
	over.Terms.CapacityBytes = records.MaxBidCapacity + 1
	_, err = admins[0].RevealBid(ctx, over)
	wantCode(t, "reveal over the capacity limit", err, records.ErrInvalid)
	// The late node leaves the market (later auctions would await it).
	if _, err := admins[0].WithdrawBid(ctx, late); err != nil {
		t.Fatal(err)
	}

	// Wait for the reveals (or the deadline).
	deadline, _ := time.Parse(records.TimestampLayout, a.Deadline)
	for {
		rs, err := gw.AuctionReveals(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) >= len(a.Awaited()) || time.Now().After(deadline.Add(time.Second)) {
			t.Logf("%d of %d awaited bids revealed", len(rs), len(a.Awaited()))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The clearing simulated on every organisation's peer.
	var sims []*records.Auction
	for i := range orgs {
		var sim *records.Auction
		for {
			if sim, err = onPeer[i].EvaluateClear(ctx, a.ID); err == nil || !errors.Is(err, records.ErrFailedPrecondition) || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond) // a reveal not yet on this peer
		}
		if err != nil {
			t.Fatal(err)
		}
		sims = append(sims, sim)
		clearMs, getMs := evaluateTimes(t, ctx, onPeer[i], a.ID)
		t.Logf("FIGURE clearing time on %s's peer, %d revealed bids: %.1f ms (evaluate of auction:Clear %.1f ms less auction:Get %.1f ms, median of 5)",
			shared.Orgs[i].MSPID, len(sim.Inputs), clearMs-getMs, clearMs, getMs)
	}
	for i := 1; i < orgs; i++ {
		if outcome(sims[i]) != outcome(sims[0]) {
			t.Fatalf("the clearing differs between peers:\n%s: %s\n%s: %s", shared.Orgs[0].MSPID, outcome(sims[0]), shared.Orgs[i].MSPID, outcome(sims[i]))
		}
	}
	var cleared *records.Auction
	for try := 0; ; try++ {
		if cleared, err = gw.ClearAuction(ctx, a.ID); err == nil || !errors.Is(err, ledger.ErrConflict) || try == 5 {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if cleared.Status != records.AuctionCleared || outcome(cleared) != outcome(sims[0]) {
		t.Fatalf("cleared %s (%s), simulated %s", outcome(cleared), cleared.Failure, outcome(sims[0]))
	}
	for i := range orgs {
		stored, err := admins[i].GetAuction(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if outcome(stored) != outcome(cleared) {
			t.Fatalf("%s's peer stores %s, the clearing returned %s", admins[i].MSPID(), outcome(stored), outcome(cleared))
		}
		verifyAuction(t, ctx, admins[i], a.ID)
	}
	// Cheaper and better: nodes 1..6 (20+i, near) win; node 0 (15, but
	// 16,500 km away: cost × 1.82) loses; node 7 is the first losing bid.
	var winners []string
	for _, w := range cleared.Awards {
		winners = append(winners, w.Node)
	}
	slices.Sort(winners)
	want := []string{bs[1].id, bs[2].id, bs[3].id, bs[4].id, bs[5].id, bs[6].id}
	if !slices.Equal(winners, want) || cleared.StoragePerGBMonth != bs[7].price {
		t.Fatalf("winners %v at %d, want %v at %d", winners, cleared.StoragePerGBMonth, want, bs[7].price)
	}

	// A winner leaves: its contract is re-auctioned.
	leaving := cleared.Awards[0]
	owner := admins[slices.IndexFunc(bs, func(b *bidder) bool { return b.id == leaving.Node })%orgs]
	_, err = gw.ReopenAuction(ctx, records.ReauctionInput{Root: a.ID, Node: leaving.Node, Reason: records.EndInactive})
	wantCode(t, "re-auction of a healthy node's contract", err, records.ErrFailedPrecondition)
	_, err = gw.ReopenAuction(ctx, records.ReauctionInput{Root: a.ID, Node: leaving.Node, Reason: records.EndScore})
	wantCode(t, "re-auction of an unscored node's contract for its score", err, records.ErrFailedPrecondition)
	if _, err := owner.DeactivateNode(ctx, leaving.Node, "leaving"); err != nil {
		t.Fatal(err)
	}
	if orgs > 1 {
		gw2, _ := identityClient(t, shared, 1, testnetwork.RoleGateway)
		_, err = gw2.ReopenAuction(ctx, records.ReauctionInput{Root: a.ID, Node: leaving.Node, Reason: records.EndInactive})
		wantCode(t, "re-auction by another organisation", err, records.ErrForbidden)
	}
	start = time.Now()
	re, err := bids.RunReauction(ctx, gw, records.ReauctionInput{Root: a.ID, Node: leaving.Node, Reason: records.EndInactive, RevealSeconds: 15}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("re-auction of %s's contract (%d bids) cleared in %v: %v", leaving.Node, len(re.Bids), time.Since(start).Round(time.Millisecond), re.Awards)
	if len(re.Awards) != 1 || re.Awards[0].Shard != leaving.Shard || slices.Contains(winners, re.Awards[0].Node) {
		t.Fatalf("re-auction awards %v: want shard %d to a node holding none", re.Awards, leaving.Shard)
	}
	hs, err := gw.Holdings(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	ended := slices.IndexFunc(hs, func(h *records.Holding) bool {
		return h.Node == leaving.Node && !h.Live() && h.EndReason == records.EndInactive && h.Successor == re.ID && h.EndedAt == re.ClearedAt
	})
	if ended < 0 || len(hs) != 7 {
		t.Fatalf("holdings %v: want %s's ended by %s", hs, leaving.Node, re.ID)
	}
	for i := range orgs {
		verifyAuction(t, ctx, admins[i], re.ID)
	}
	_, err = gw.ReopenAuction(ctx, records.ReauctionInput{Root: a.ID, Node: leaving.Node, Reason: records.EndInactive})
	wantCode(t, "second termination", err, records.ErrFailedPrecondition)
	stop()
}

// outcome is the part of an auction every peer must agree on.
func outcome(a *records.Auction) string {
	b, _ := json.Marshal(struct {
		Status   records.AuctionStatus
		Awards   []records.Award
		S, D     int64
		Failure  string
		Inputs   []records.ClearingInput
		Replaces *records.Replacement
	}{a.Status, a.Awards, a.StoragePerGBMonth, a.DeliveryPerMiB, a.Failure, a.Inputs, a.Replaces})
	return string(b)
}

// evaluateTimes returns the median of 5 evaluates of auction:Clear and of
// auction:Get of id on c's peer, in ms.
func evaluateTimes(t *testing.T, ctx context.Context, c *ledger.Client, id string) (clearMs, getMs float64) {
	t.Helper()
	var cl, gt []time.Duration
	for range 5 {
		t0 := time.Now()
		if _, err := c.EvaluateClear(ctx, id); err != nil {
			t.Fatal(err)
		}
		cl = append(cl, time.Since(t0))
		t0 = time.Now()
		if _, err := c.GetAuction(ctx, id); err != nil {
			t.Fatal(err)
		}
		gt = append(gt, time.Since(t0))
	}
	slices.Sort(cl)
	slices.Sort(gt)
	return float64(cl[2].Microseconds()) / 1000, float64(gt[2].Microseconds()) / 1000
}

// parallel runs fn(0..n-1) on at most workers goroutines and fails on the
// first error.
func parallel(t *testing.T, n, workers int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	sem := make(chan struct{}, workers)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	var msgs []string
	for i, err := range errs {
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("%d: %v", i, err))
		}
	}
	if len(msgs) > 0 {
		t.Fatalf("%d of %d failed: %s", len(msgs), n, strings.Join(msgs, "; "))
	}
}
