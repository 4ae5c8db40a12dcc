//go:build bench

package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// TestAuctionClearingTime reports the chaincode time of auction:Clear
// for 50, 500 and 10,000 revealed bids (the target: 10,000 bids
// in under 1 s). The clearing is timed in process on the chaincode's
// fakes, which commit like a peer, by chaincode/contract's
// TestClearingTime (build tag bench; the fakes are internal to the
// chaincode module): from loading the auction to writing the contracts,
// every state read included (the auction, the reveals, each bidder's
// node and score), median of three fresh ledgers. A peer adds a gRPC
// round trip per state read that the fakes do not have.
func TestAuctionClearingTime(t *testing.T) {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	dir, err := filepath.Abs("../../chaincode")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "test", "-tags", "bench", "-count=1", "-v", "-run", "^TestClearingTime$", "./contract/")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	got := map[int][2]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var n int
		var wall, cpu float64
		if _, err := fmt.Sscanf(sc.Text(), "CLEARTIME bids=%d ms=%f cpums=%f", &n, &wall, &cpu); err == nil {
			got[n] = [2]float64{wall, cpu}
		}
	}
	for _, n := range []int{50, 500, 10_000} {
		m, ok := got[n]
		if !ok {
			t.Fatalf("no clearing time for %d bids in:\n%s", n, out)
		}
		figure := fmt.Sprintf("auction clearing, %d revealed bids (auction:Clear in process on the chaincode fakes, median of 3)", n)
		measured := fmt.Sprintf("%.1f ms (%.1f ms CPU)", m[0], m[1])
		if n == 10_000 {
			report(t, figure, "< 1 s of chaincode time", measured, VerdictOf(m[0] < 1000))
		} else {
			report(t, figure, "—", measured, Info)
		}
	}
}

// TestBidThroughput: every node identity of the network (its agents'
// identities, one per node, each allowed to bid only for its own node)
// places sealed bids back to back, all of them concurrently, for
// bidSeconds on the real network; each bid is its node's own key, so no
// two transactions of the run touch the same key. It reports the bids
// accepted (committed VALID) per second and the MVCC conflicts
// (MVCC_READ_CONFLICT or PHANTOM_READ_CONFLICT, ledger.ErrConflict),
// whose target is 0; it withdraws the bids at the end.
func TestBidThroughput(t *testing.T) {
	const bidSeconds = 20
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	type agent struct {
		node string
		lc   *ledger.Client
	}
	var agents []agent
	for i, org := range desc.Orgs {
		for _, id := range org.Identities {
			if id.Role != testnetwork.RoleNode || id.NodeID == "" {
				continue
			}
			signer, err := id.Signer(org.MSPID)
			if err != nil {
				t.Fatal(err)
			}
			agents = append(agents, agent{node: id.NodeID, lc: testenv.LedgerClient(t, desc, i, signer)})
		}
	}
	if len(agents) < 2 {
		t.Fatalf("%d node identities: the suite needs agents", len(agents))
	}
	var (
		mu                        sync.Mutex
		accepted, conflicts, errs int
		lat                       []time.Duration
		firstErr                  error
	)
	start := time.Now()
	deadline := start.Add(bidSeconds * time.Second)
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for price := int64(1); time.Now().Before(deadline); price++ {
				s, err := bids.Seal(records.BidTerms{Node: a.node, StoragePerGBMonth: 10 + price%100, DeliveryPerMiB: 1, CapacityBytes: 1 << 30, BandwidthBps: 1e9}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				t0 := time.Now()
				_, err = a.lc.PlaceBid(ctx, s.Input)
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err == nil:
					accepted++
					lat = append(lat, d)
				case errors.Is(err, ledger.ErrConflict):
					conflicts++
				default:
					errs++
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", a.node, err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if errs > 0 {
		t.Errorf("%d bids failed, the first: %v", errs, firstErr)
	}
	if accepted == 0 {
		t.Fatal("no bid accepted")
	}
	report(t, fmt.Sprintf("sealed bids accepted per second, %d agents' identities bidding concurrently (each its node's key), %ds on the real network", len(agents), bidSeconds),
		"0 MVCC conflicts", fmt.Sprintf("%.1f bids/s (%d in %.1fs, p50 %v, p95 %v), %d MVCC conflicts", float64(accepted)/took.Seconds(), accepted, took.Seconds(),
			testenv.Percentile(lat, 0.50).Round(time.Millisecond), testenv.Percentile(lat, 0.95).Round(time.Millisecond), conflicts), VerdictOf(conflicts == 0))
	if conflicts > 0 {
		t.Errorf("%d MVCC conflicts between bids on distinct keys", conflicts)
	}
	for _, a := range agents {
		if _, err := a.lc.WithdrawBid(ctx, a.node); err != nil {
			t.Errorf("withdraw %s: %v", a.node, err)
		}
	}
}
