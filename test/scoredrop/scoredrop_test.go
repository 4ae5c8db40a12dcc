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

	// An object placed by auction; N holds its shard 0 (a data shard,
	// which every read asks for).
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
	root, n := man.Auction, man.Shards[0].Nodes[0]
	agent := ""
	for _, a := range env.Agents {
		if a.NodeID == n {
			agent = a.Name
		}
	}
	if agent == "" {
		t.Fatalf("no agent runs %s", n)
	}
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

	// Before: N serves its shard and is paid for it.
	if b := paidFor(n, read(), read()); b <= 0 {
		t.Fatalf("%s delivered shard 0 but was not paid", n)
	}

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

	// The lifecycle re-auctions N's contract (its holding of shard 0 ends
	// for reason score, a successor's starts) and moves shard 0 onto the
	// winner.
	var old, nw *records.Holding
	var hs []*records.Holding
	for {
		if hs, err = l.Holdings(ctx, root); err != nil {
			t.Fatal(err)
		}
		old, nw = nil, nil
		for _, h := range hs {
			if h.Shard == 0 && h.Node == n {
				old = h
			}
		}
		if old != nil && !old.Live() {
			for _, h := range hs {
				if h.Shard == 0 && h.Live() && h.Auction == old.Successor {
					nw = h
				}
			}
		}
		if nw != nil {
			cur, err := l.GetManifest(ctx, res.Name, res.Version)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(cur.Shards[0].Nodes, n) && slices.Contains(cur.Shards[0].Nodes, nw.Node) {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("shard 0 not moved off %s %v after it stopped: holding %+v, successor %+v", n, time.Since(stopped), old, nw)
		}
		time.Sleep(poll)
	}
	if old.EndReason != records.EndScore {
		t.Fatalf("%s's holding of shard 0 ended for %s, want %s", n, old.EndReason, records.EndScore)
	}
	winner := nw.Node
	for _, h := range hs {
		if h.Node == n && h.Live() {
			t.Fatalf("%s still holds a live contract of %s: %+v", n, root, h)
		}
	}
	t.Logf("%s lost its contract: re-auction %s gave shard 0 to %s; moved %v after the stop", n, nw.Auction, winner, time.Since(stopped).Round(time.Millisecond))

	// The object reads back from its new placement; the winner is paid
	// for the reads, N for nothing from the epoch its contract ended in on.
	ended, err := time.Parse(records.TimestampLayout, old.EndedAt)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := read(), read()
	if paidFor(winner, r1, r2) <= 0 {
		t.Fatalf("the winner %s was not paid for its deliveries in epochs %d..%d", winner, r1, r2)
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
