//go:build integration

package scoredrop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/test/internal/testenv"
)

// poll is how often the test rereads the ledger while it waits on a
// state (never a fixed wait for the state itself).
const poll = 500 * time.Millisecond

// TestScoreDropMovesContracts: a node holding a contracted shard stops
// (SIGSTOP: it neither answers the mesh nor serves). The other
// organisation's agents attest it unreachable each epoch; its score
// falls below the warning threshold (state warning), stays there for the
// grace epochs, and is penalized; the gateway's contract lifecycle then
// re-auctions its contracts (auction:Reopen, reason score, checked by
// the chaincode), the repair moves its shard onto the winner
// (manifest:UpdateHolders), the object reads back byte-identical, and
// the node, paid for its deliveries before, is paid for none in the
// epochs from the move on. Every wait is on the ledger's state.
func TestScoreDropMovesContracts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	gw := env.Gateways[0]
	var l *ledger.Client
	for i, o := range env.Orgs {
		if o.MSPID == gw.Org {
			s, err := o.AdminSigner()
			if err != nil {
				t.Fatal(err)
			}
			l = testenv.LedgerClient(t, env, i, s)
		}
	}
	info, err := l.Epoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Seconds != epochSeconds {
		t.Fatalf("the ledger's epochs are %d s, want the suite's %d s", info.Seconds, epochSeconds)
	}
	epochOf := func(at time.Time) int64 { return records.EpochOf(at, epochSeconds) }

	// An object placed by auction.
	body := make([]byte, 1<<20)
	rand.New(rand.NewSource(11)).Read(body)
	res, err := testenv.Publisher(env, gw).Publish(ctx, "scoredrop/object.bin", "application/octet-stream", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	man, err := l.GetManifest(ctx, res.Name, res.Version)
	if err != nil {
		t.Fatal(err)
	}
	if man.Auction == "" {
		t.Fatal("the object was not placed by auction")
	}
	root := man.Auction
	// read GETs the object, checks it and returns the epoch it ended in.
	read := func() int64 {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL+"/cdn/"+res.Name+"@"+res.Version, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("GET %s@%s: %s, %d bytes, %v; equal %v", res.Name, res.Version, resp.Status, len(got), err, bytes.Equal(got, body))
		}
		return epochOf(time.Now())
	}
	// paidIn waits until the gateway's batch of epoch e is accepted (its
	// receipts are batched a second after the epoch ends) and returns the
	// bytes the ledger counted for node in e.
	paidIn := func(node string, e int64) int64 {
		t.Helper()
		for {
			bs, err := l.Batches(ctx, gw.Org)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(bs, func(b *records.Batch) bool { return b.Epoch == e && b.Status == records.BatchAccepted }) {
				ne, err := l.NodeEpoch(ctx, node, e)
				if err != nil {
					t.Fatal(err)
				}
				return ne.Bytes
			}
			if ctx.Err() != nil {
				t.Fatalf("the gateway's batch of epoch %d was not accepted", e)
			}
			time.Sleep(poll)
		}
	}

	// paidFor sums what node was counted in the epochs of reads.
	paidFor := func(node string, reads ...int64) int64 {
		t.Helper()
		var sum int64
		for i, e := range reads {
			if i == 0 || e != reads[i-1] {
				sum += paidIn(node, e)
			}
		}
		return sum
	}

	// Before: N, a holder the reads ask (the gateway reads the k holders
	// it ranks first), serves its shard and is paid for it.
	r1, r2 := read(), read()
	n, shard := "", -1
	for i, sh := range man.Shards {
		if paidFor(sh.Nodes[0], r1, r2) > 0 {
			n, shard = sh.Nodes[0], i
			break
		}
	}
	if n == "" {
		t.Fatalf("no holder of %s@%s was paid for the reads in epochs %d..%d", res.Name, res.Version, r1, r2)
	}
	agent := ""
	for _, a := range env.Agents {
		if a.NodeID == n {
			agent = a.Name
		}
	}
	if agent == "" {
		t.Fatalf("no agent runs %s", n)
	}
	t.Logf("%s holds shard %d and was paid for its deliveries", n, shard)

	// N stops.
	stopped := time.Now()
	if err := env.Signal(agent, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Signal(agent, syscall.SIGCONT); err != nil {
			t.Errorf("resume %s: %v", agent, err)
		}
	})
	// Its score: warning first, then penalized.
	var warned, penalized *records.SLAScore
	for penalized == nil {
		s, err := l.SLAScore(ctx, n)
		if err != nil && !errors.Is(err, records.ErrNotFound) {
			t.Fatal(err)
		}
		switch {
		case err != nil:
		case s.State == records.SLAStateWarning && warned == nil:
			warned = s
			t.Logf("%s warned after %v: %d in epoch %d", n, time.Since(stopped).Round(time.Millisecond), s.Score, s.Epoch)
		case s.State == records.SLAStatePenalized:
			penalized = s
		}
		if ctx.Err() != nil {
			t.Fatalf("%s not penalized %v after it stopped (score %+v)", n, time.Since(stopped), s)
		}
		if penalized == nil {
			time.Sleep(poll)
		}
	}
	if warned == nil || penalized.Epoch-warned.Epoch < records.SLAGraceEpochs {
		t.Fatalf("%s penalized in epoch %d (%d) without %d epochs of warning first (warned %+v)", n, penalized.Epoch, penalized.Score, records.SLAGraceEpochs, warned)
	}
	t.Logf("%s penalized after %v: %d in epoch %d", n, time.Since(stopped).Round(time.Millisecond), penalized.Score, penalized.Epoch)

	// The lifecycle re-auctions N's contract (its holding of the shard
	// ends for reason score, a successor's starts) and moves the shard
	// onto the winner.
	var old, nw *records.Holding
	var hs []*records.Holding
	for {
		if hs, err = l.Holdings(ctx, root); err != nil {
			t.Fatal(err)
		}
		old, nw = nil, nil
		for _, h := range hs {
			if h.Shard == shard && h.Node == n {
				old = h
			}
		}
		if old != nil && !old.Live() {
			for _, h := range hs {
				if h.Shard == shard && h.Live() && h.Auction == old.Successor {
					nw = h
				}
			}
		}
		if nw != nil {
			cur, err := l.GetManifest(ctx, res.Name, res.Version)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(cur.Shards[shard].Nodes, n) && slices.Contains(cur.Shards[shard].Nodes, nw.Node) {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("shard %d not moved off %s %v after it stopped: holding %+v, successor %+v", shard, n, time.Since(stopped), old, nw)
		}
		time.Sleep(poll)
	}
	if old.EndReason != records.EndScore {
		t.Fatalf("%s's holding of shard %d ended for %s, want %s", n, shard, old.EndReason, records.EndScore)
	}
	winner := nw.Node
	for _, h := range hs {
		if h.Node == n && h.Live() {
			t.Fatalf("%s still holds a live contract of %s: %+v", n, root, h)
		}
	}
	t.Logf("%s lost its contract: re-auction %s gave shard %d to %s; moved %v after the stop", n, nw.Auction, shard, winner, time.Since(stopped).Round(time.Millisecond))

	// The object reads back from its new placement, whose holders are
	// paid for the reads (the winner when the gateway ranks it among the
	// k it asks); N is paid for nothing in the epochs that start after
	// its contract ended.
	ended, err := time.Parse(records.TimestampLayout, old.EndedAt)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 = read(), read()
	cur, err := l.GetManifest(ctx, res.Name, res.Version)
	if err != nil {
		t.Fatal(err)
	}
	var paid int64
	counted := map[string]bool{}
	for _, sh := range cur.Shards {
		for _, h := range sh.Nodes {
			if counted[h] {
				continue // a node holding two shards has one counter
			}
			counted[h] = true
			b := paidFor(h, r1, r2)
			paid += b
			if h == winner {
				t.Logf("the winner %s was paid for %d bytes of the reads after the move", winner, b)
			}
		}
	}
	if paid <= 0 {
		t.Fatalf("no holder was paid for the reads in epochs %d..%d after the move", r1, r2)
	}
	// The first epoch that starts at or after the end of the contract.
	first := epochOf(ended)
	if records.EpochStart(first, epochSeconds).Before(ended) {
		first++
	}
	for e := first; e <= r2; e++ {
		ne, err := l.NodeEpoch(ctx, n, e)
		if err != nil {
			t.Fatal(err)
		}
		if ne.Bytes != 0 {
			t.Fatalf("%s was paid for %d bytes in epoch %d, after its contract ended at %s", n, ne.Bytes, e, old.EndedAt)
		}
	}
}
