//go:build bench

package contract

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// TestClearingTime times auction:Clear, in process on the fakes (which
// commit like a peer), for auctions of DCT_CLEAR_BIDS bids (default 50,
// 500, 10000), every one revealed, a quarter of the nodes scored: from
// loading the auction to writing the contracts, with every state read
// (the auction, the reveals, each bidder's node and score). Each size is
// cleared three times on fresh ledgers; it prints the median wall and CPU
// time as one "CLEARTIME bids=N ms=X cpums=Y" line per size for
// test/bench (TestAuctionClearingTime), which turns them into report
// rows.
func TestClearingTime(t *testing.T) {
	sizes := []int{50, 500, 10_000}
	if s := os.Getenv("DCT_CLEAR_BIDS"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 || n > records.MaxAuctionBids {
				t.Fatalf("DCT_CLEAR_BIDS: %q", s)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		var walls, cpus []time.Duration
		for range 3 {
			wall, cpu := timeClear(t, n)
			walls, cpus = append(walls, wall), append(cpus, cpu)
		}
		slices.Sort(walls)
		slices.Sort(cpus)
		fmt.Printf("CLEARTIME bids=%d ms=%.3f cpums=%.3f\n", n, ms(walls[1]), ms(cpus[1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime is the process's user and system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeClear sets up an auction of n revealed bids and returns the wall
// and CPU time of its auction:Clear.
func timeClear(t *testing.T, n int) (wall, cpu time.Duration) {
	e := newEnv(t)
	gw := newGateway(t, e, orgB, "gw.orgb")
	stub := e.ledger.NewStub()
	put := func(key string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := stub.PutState(key, b); err != nil {
			t.Fatal(err)
		}
	}
	pk := nodePublicKey(t)
	terms := make([]records.BidTerms, n)
	salts := make([]string, n)
	for i := range n {
		id := fmt.Sprintf("n%05d-orga", i)
		node := &records.Node{ID: id, Org: orgA, Endpoint: fmt.Sprintf("10.0.%d.%d:9000", i/250, i%250), Zone: fmt.Sprintf("zone-%d", i%4),
			Latitude: float64(i%90) - 45, Longitude: float64(i%180) - 90, StorageBytes: 1 << 40, BandwidthBps: 1e10, PublicKey: pk,
			Status: records.NodeStatusActive, RegisteredAt: "2026-01-01T00:00:00Z", UpdatedAt: "2026-01-01T00:00:00Z", LastTxID: "tx"}
		nk, _ := records.NodeKey(id)
		put(nk, node)
		terms[i] = records.BidTerms{Node: id, StoragePerGBMonth: int64(10 + (i*7919)%500), DeliveryPerMiB: int64(1 + i%9), CapacityBytes: 1 << 36, BandwidthBps: 1e9}
		salts[i] = fmt.Sprintf("%064x", i+1)
		h, err := records.BidHash(terms[i], salts[i])
		if err != nil {
			t.Fatal(err)
		}
		bk, _ := records.BidKey(id)
		put(bk, &records.SealedBid{Node: id, Org: orgA, Hash: h, Seq: 1, Status: records.BidActive, UpdatedAt: "2026-01-01T00:00:00Z", TxID: "tx"})
		if i%4 == 0 {
			sk, _ := records.SLAScoreKey(id)
			put(sk, &records.SLAScore{Node: id, Epoch: 5, Score: int64(5000 + i%5000), State: records.SLAStateOK})
		}
	}
	stub.Commit()
	asGW := func(fn func(*fakes.Context) (*records.Auction, error)) (*records.Auction, error) {
		return callCtx(e, e.ledger.NewContextAs(gw.msp, gw.cert), fn)
	}
	in := records.AuctionInput{Object: "bench/clear.bin", Shards: 12, K: 8, ShardSize: 1 << 20, TermSeconds: 86400,
		MaxStoragePerGBMonth: 1000, MaxDeliveryPerMiB: 10, HasLocation: true, Latitude: 48.8, Longitude: 2.3, RevealSeconds: 60}
	a, err := asGW(func(ctx *fakes.Context) (*records.Auction, error) {
		return NewAuctionContract().Open(ctx, toJSON(t, in))
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Bids) != n {
		t.Fatalf("the auction snapshotted %d bids, want %d", len(a.Bids), n)
	}
	// The reveals, as auction:Reveal writes them (the hashes match).
	stub = e.ledger.NewStub()
	for i := range n {
		rk, _ := records.RevealKey(a.ID, terms[i].Node)
		put(rk, &records.Reveal{Auction: a.ID, Terms: terms[i], Salt: salts[i], RevealedBy: "x", RevealedAt: "2026-01-01T00:00:00Z", TxID: "tx"})
	}
	stub.Commit()
	runtime.GC()
	got, err := asGW(func(ctx *fakes.Context) (*records.Auction, error) {
		start, c0 := time.Now(), cpuTime(t)
		defer func() { wall, cpu = time.Since(start), cpuTime(t)-c0 }()
		return NewAuctionContract().Clear(ctx, a.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != records.AuctionCleared || len(got.Awards) != in.Shards || len(got.Inputs) != n {
		t.Fatalf("clearing of %d bids: %s, %d awards, %d inputs (%s)", n, got.Status, len(got.Awards), len(got.Inputs), got.Failure)
	}
	return wall, cpu
}
