//go:build integration

package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// lostRace reports whether err says that another update of the same shard
// won: the holders had changed at endorsement (records.ErrConflict) or both
// were endorsed against the same state (ledger.ErrConflict, MVCC).
func lostRace(err error) bool {
	return errors.Is(err, records.ErrConflict) || errors.Is(err, ledger.ErrConflict)
}

// TestUpdateShardHolders races two organisations' repairs of the same shard
// on the real network: the ledger lets exactly one through.
func TestUpdateShardHolders(t *testing.T) {
	ctx := ctxT(t)
	bankA, bankB := orgClient(t, shared, 0), orgClient(t, shared, 1)
	mspA, mspB := shared.Orgs[0].MSPID, shared.Orgs[1].MSPID
	var nodes []string
	for i, cl := range []*ledger.Client{bankA, bankA, bankB, bankA, bankB, bankB} {
		id := fmt.Sprintf("repair-node-%d-%s", i, records.OrgSlug(cl.MSPID()))
		if _, err := cl.RegisterNode(ctx, nodeInput(t, id, fmt.Sprintf("zone-%d", i%2), 9400+i)); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, id)
	}
	const name, version, shard = "repair/js/app.js", "v1", 1
	// k=2, m=1: shard i on nodes[i]; nodes 3..5 are spares.
	rec, err := bankA.RecordManifest(ctx, testManifest(name, version, []byte("console.log(1)"), 2, 1, nodes[:3]))
	if err != nil {
		t.Fatal(err)
	}
	expected := []string{nodes[shard]}
	// The holder is lost: its owner takes it out of service, after which
	// any member's gateway may repair its copies.
	if _, err := bankA.DeactivateNode(ctx, nodes[shard], "lost"); err != nil {
		t.Fatal(err)
	}
	if err := bankB.WaitForCommit(ctx, rec.TxID); err != nil {
		t.Fatal(err)
	}

	type result struct {
		cl      *ledger.Client
		msp     string
		holders []string
		m       *records.Manifest
		err     error
	}
	results := []*result{
		{cl: bankA, msp: mspA, holders: []string{nodes[3]}},
		{cl: bankB, msp: mspB, holders: []string{nodes[4], nodes[5]}},
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, r := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r.m, r.err = r.cl.UpdateShardHolders(ctx, name, version, shard, expected, r.holders)
		}()
	}
	close(start)
	wg.Wait()

	var winner, loser *result
	for _, r := range results {
		switch {
		case r.err == nil:
			if winner != nil {
				t.Fatalf("both updates succeeded: %s and %s", winner.msp, r.msp)
			}
			winner = r
		case lostRace(r.err):
			loser = r
		default:
			t.Fatalf("update by %s failed with %v, want success or a conflict", r.msp, r.err)
		}
	}
	if winner == nil || loser == nil {
		t.Fatalf("want exactly one winner: %s → %v, %s → %v", results[0].msp, results[0].err, results[1].msp, results[1].err)
	}
	kind := "records.ErrConflict (holders changed)"
	if errors.Is(loser.err, ledger.ErrConflict) {
		kind = "ledger.ErrConflict (MVCC)"
	}
	t.Logf("%s won; %s lost with %s: %v", winner.msp, loser.msp, kind, loser.err)
	if winner.m.UpdatedBy != winner.msp || winner.m.UpdateTxID == "" || winner.m.UpdatedAt == "" ||
		!slices.Equal(winner.m.Shards[shard].Nodes, winner.holders) {
		t.Fatalf("winner's manifest = %+v", winner.m)
	}

	got, err := bankB.GetManifest(ctx, name, version)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Shards[shard].Nodes, winner.holders) || got.UpdateTxID != winner.m.UpdateTxID {
		t.Fatalf("ledger holds shard %d on %v (update %s), want the winner's %v (%s)",
			shard, got.Shards[shard].Nodes, got.UpdateTxID, winner.holders, winner.m.UpdateTxID)
	}
	for i, s := range got.Shards {
		if s.Hash != rec.Shards[i].Hash || s.Size != rec.Shards[i].Size || (i != shard && !slices.Equal(s.Nodes, rec.Shards[i].Nodes)) {
			t.Fatalf("shard %d changed beyond its holders: %+v, recorded %+v", i, s, rec.Shards[i])
		}
	}
	if got.Publisher != mspA || got.TxID != rec.TxID || got.CreatedAt != rec.CreatedAt {
		t.Fatalf("recording fields changed: %+v", got)
	}

	hist, err := bankA.ManifestHistory(ctx, name, version)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].TxID != rec.TxID || hist[1].TxID != winner.m.UpdateTxID {
		t.Fatalf("manifest history = %+v, want the record %s then the update %s", hist, rec.TxID, winner.m.UpdateTxID)
	}
	var last records.Manifest
	if err := json.Unmarshal([]byte(hist[1].Value), &last); err != nil ||
		!slices.Equal(last.Shards[shard].Nodes, winner.holders) || last.UpdatedBy != winner.msp {
		t.Fatalf("last history value is not the update: %v %s", err, hist[1].Value)
	}

	// Retried with the stale expectation, the loser now fails the compare;
	// re-reading first, it may repair on top of the winner's holders.
	_, err = loser.cl.UpdateShardHolders(ctx, name, version, shard, expected, loser.holders)
	wantCode(t, "stale retry", err, records.ErrConflict)
	refusals := []struct {
		name            string
		index           int
		expected, nodes []string
		want            error
	}{
		{"node would hold k shards", shard, winner.holders, []string{nodes[0]}, records.ErrInvalid},
		{"unknown node", shard, winner.holders, []string{"repair-ghost"}, records.ErrNotFound},
		{"index out of range", 3, []string{nodes[0]}, []string{nodes[5]}, records.ErrInvalid},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			_, err := bankA.UpdateShardHolders(ctx, name, version, r.index, r.expected, r.nodes)
			wantCode(t, r.name, err, r.want)
		})
	}
	// On top of the winner's holders, which are active: another member may
	// not drop them, the publisher's organisation may move them anywhere.
	if loser.msp != mspA {
		_, err := loser.cl.UpdateShardHolders(ctx, name, version, shard, winner.holders, loser.holders)
		wantCode(t, "other org drops active holders", err, records.ErrForbidden)
	}
	again, err := bankA.UpdateShardHolders(ctx, name, version, shard, winner.holders, loser.holders)
	if err != nil {
		t.Fatalf("repair after re-read: %v", err)
	}
	if again.UpdatedBy != mspA || !slices.Equal(again.Shards[shard].Nodes, loser.holders) {
		t.Fatalf("repair after re-read = %+v", again)
	}
	if hist, err = bankB.ManifestHistory(ctx, name, version); err != nil || len(hist) != 3 || hist[2].TxID != again.UpdateTxID {
		t.Fatalf("manifest history after the second repair = %+v, %v", hist, err)
	}
}
