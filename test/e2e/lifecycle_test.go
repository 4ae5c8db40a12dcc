//go:build integration

package e2e

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/auctionaudit"
	"github.com/dct-network/dct/pkg/ledger"
)

// TestLifecycleMovesShardsOfALeavingNode: a holder of an object placed by
// auction leaves (its organisation deactivates its node); the gateway's
// contract lifecycle (--contract-lifecycle-interval) re-auctions its
// contracts (auction:Reopen, reason inactive, checked by the chaincode),
// the old contract ends at the clearing, the repair mechanism moves the
// shard onto the winner (manifest:UpdateHolders), and the object reads
// back byte-identical from the new placement. The re-auction recomputes
// offline to a match (dct audit verify-auction's code), and a re-auction
// of a healthy node's contracts is refused.
func TestLifecycleMovesShardsOfALeavingNode(t *testing.T) {
	ctx := ctxT(t, 5*time.Minute)
	admins := orgAdmins(t)
	gwOrg := env.Gateways[0].Org
	body := payload(1<<20, 4242)
	res := publish(t, "e2e/lifecycle/leaving.bin", "application/octet-stream", body)
	man := manifest(t, res.Name, res.Version)
	if man.Auction == "" {
		t.Fatal("the object was not placed by auction")
	}
	root := man.Auction
	// The node that leaves: the holder of shard 0.
	leaving := man.Shards[0].Nodes[0]
	var owner *ledger.Client
	for _, a := range env.Agents {
		if a.NodeID == leaving {
			owner = admins[a.Org]
		}
	}
	if owner == nil {
		t.Fatalf("no organisation owns %s", leaving)
	}
	// Refused while the node is healthy.
	_, err := admins[gwOrg].ReopenAuction(ctx, records.ReauctionInput{Root: root, Node: leaving, Reason: records.EndInactive})
	if !errors.Is(err, records.ErrFailedPrecondition) {
		t.Fatalf("re-auction of a healthy node's contracts: %v, want FAILED_PRECONDITION", err)
	}
	start := time.Now()
	if _, err := owner.DeactivateNode(ctx, leaving, "e2e: leaving"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := owner.ReactivateNode(ctxT(t, time.Minute), leaving); err != nil {
			t.Errorf("reactivate %s: %v", leaving, err)
		}
	})
	// Wait for the move on the ledger (the lifecycle scans every 10 s).
	var moved *records.Manifest
	for moved == nil {
		if ctx.Err() != nil {
			t.Fatalf("shard 0 of %s@%s still on %s after %v", res.Name, res.Version, leaving, time.Since(start))
		}
		cur, err := admins[gwOrg].GetManifest(ctx, res.Name, res.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(cur.Shards[0].Nodes, leaving) {
			moved = cur
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	took := time.Since(start)
	winner := moved.Shards[0].Nodes[0]
	hs, err := admins[gwOrg].Holdings(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	var old, nw *records.Holding
	for _, h := range hs {
		switch {
		case h.Shard == 0 && h.Node == leaving:
			old = h
		case h.Shard == 0 && h.Node == winner:
			nw = h
		}
	}
	if old == nil || old.Live() || old.EndReason != records.EndInactive || nw == nil || !nw.Live() || nw.Auction != old.Successor {
		t.Fatalf("holdings of shard 0: old %+v, new %+v", old, nw)
	}
	t.Logf("%s left: re-auction %s gave shard 0 to %s, moved %v after the deactivation", leaving, nw.Auction, winner, took.Round(time.Millisecond))
	// The auditor's recomputation of the re-auction, from every
	// organisation's peer.
	for org, a := range admins {
		ev, err := auctionaudit.CollectEvidence(ctx, a, nw.Auction)
		if err != nil {
			t.Fatal(err)
		}
		if cs := auctionaudit.Verify(ev); !auctionaudit.OK(cs) {
			t.Fatalf("verify-auction %s on %s's peer: %v", nw.Auction, org, cs)
		}
	}
	// Double termination: the leaving node holds nothing more.
	_, err = admins[gwOrg].ReopenAuction(ctx, records.ReauctionInput{Root: root, Node: leaving, Reason: records.EndInactive})
	if !errors.Is(err, records.ErrFailedPrecondition) {
		t.Fatalf("second re-auction of %s: %v, want FAILED_PRECONDITION", leaving, err)
	}
	// The object reads back byte-identical from its new holders.
	resp, got := do(t, http.MethodGet, "/cdn/"+res.Name+"@"+res.Version, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("read after the move: %d, %d bytes, equal %v", resp.StatusCode, len(got), bytes.Equal(got, body))
	}
}
