//go:build integration

package integration

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// TestManifestEvents: Org B's peer delivers the dct.manifest event of
// every manifest change Org A commits (record, holders, purge), typed, in
// commit order; a subscription resumed after an event's checkpoint starts
// just past it, and one from the channel's first block replays them.
func TestManifestEvents(t *testing.T) {
	ctx := ctxT(t)
	bankA, bankB := orgClient(t, shared, 0), orgClient(t, shared, 1)
	var nodes []string
	for i, cl := range []*ledger.Client{bankA, bankA, bankB, bankB, bankA} {
		id := fmt.Sprintf("ev-node-%d-%s", i, records.OrgSlug(cl.MSPID()))
		if _, err := cl.RegisterNode(ctx, nodeInput(t, id, fmt.Sprintf("zone-%d", i%2), 9400+i)); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, id)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := bankB.ManifestEvents(sctx)
	if err != nil {
		t.Fatal(err)
	}
	const name = "feeds/events.json"
	rec1, err := bankA.RecordManifest(ctx, testManifest(name, "1", []byte(`{"v":1}`), 2, 2, nodes[:4]))
	if err != nil {
		t.Fatal(err)
	}
	upd, err := bankA.UpdateShardHolders(ctx, name, "1", 0, []string{nodes[0]}, []string{nodes[4]})
	if err != nil {
		t.Fatal(err)
	}
	rec2, err := bankA.RecordManifest(ctx, testManifest(name, "2", []byte(`{"v":2}`), 2, 2, nodes[:4]))
	if err != nil {
		t.Fatal(err)
	}
	pur, err := bankA.PurgeManifest(ctx, name, "2", "wrong quote")
	if err != nil {
		t.Fatal(err)
	}
	want := []records.ManifestEvent{
		{Name: name, Version: "1", Kind: records.EventRecord, TxID: rec1.TxID},
		{Name: name, Version: "1", Kind: records.EventHolders, TxID: upd.UpdateTxID},
		{Name: name, Version: "2", Kind: records.EventRecord, TxID: rec2.TxID},
		{Name: name, Version: "2", Kind: records.EventPurge, TxID: pur.Purged.TxID},
	}
	got := collect(t, events, len(want))
	for i, ev := range got {
		if !reflect.DeepEqual(ev.ManifestEvent, want[i]) || ev.Block == 0 {
			t.Fatalf("event %d = %+v (block %d), want %+v", i, ev.ManifestEvent, ev.Block, want[i])
		}
	}
	cancel()

	// Resumed after the first event: the other three, nothing before.
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	resumed, err := bankB.ManifestEvents(rctx, ledger.ResumeAfter(got[0].After()))
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range collect(t, resumed, 3) {
		if !reflect.DeepEqual(ev.ManifestEvent, want[i+1]) {
			t.Fatalf("resumed event %d = %+v, want %+v", i, ev.ManifestEvent, want[i+1])
		}
	}
	rcancel()

	// From the first block: every event of the channel, ours among them.
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	all, err := bankA.ManifestEvents(fctx, ledger.FromBlock(0))
	if err != nil {
		t.Fatal(err)
	}
	for seen := 0; seen < len(want); {
		select {
		case ev := <-all:
			if reflect.DeepEqual(ev.ManifestEvent, want[seen]) {
				seen++
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("replay from block 0: found %d of %d events", seen, len(want))
		}
	}
}

// collect reads n events, failing after 30 s without one.
func collect(t *testing.T, ch <-chan ledger.ManifestEvent, n int) []ledger.ManifestEvent {
	t.Helper()
	var out []ledger.ManifestEvent
	for len(out) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream ended after %d of %d events", len(out), n)
			}
			out = append(out, ev)
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d events after 30 s", len(out), n)
		}
	}
	return out
}
