//go:build bench

package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/bids"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/test/internal/testenv"
)

// TestAuctionClearingOnPeer measures the chaincode time of auction:Clear
// on a real peer for 50 and 500 revealed bids (DCT_BENCH_PEER_BIDS, a
// comma-separated list, e.g. 50,500,10000): it registers that many nodes,
// places their sealed bids and reveals them in an auction, then times
// evaluates of auction:Clear (the whole clearing simulated on the peer:
// every state read is a shim round trip) less evaluates of auction:Get
// of the same auction (the client-peer round trip), median of 5 each.
// The bids are withdrawn at the end.
func TestAuctionClearingOnPeer(t *testing.T) {
	sizes := []int{50, 500}
	if v := os.Getenv("DCT_BENCH_PEER_BIDS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > records.MaxAuctionBids {
				t.Fatalf("DCT_BENCH_PEER_BIDS=%q: want bid counts in 1..%d", v, records.MaxAuctionBids)
			}
			sizes = append(sizes, n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	orgs := len(desc.Orgs)
	admins := make([]*ledger.Client, orgs)
	keys := make([]bids.Key, orgs)
	for i, o := range desc.Orgs {
		s, err := o.AdminSigner()
		if err != nil {
			t.Fatal(err)
		}
		admins[i] = testenv.LedgerClient(t, desc, i, s)
		if keys[i], err = os.ReadFile(o.BidKeyFile); err != nil {
			t.Fatal(err)
		}
	}
	type node struct {
		id     string
		org    int
		sealed bids.Sealed
	}
	var nodes []*node
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		run(len(nodes), 64, func(i int) error {
			if nodes[i].sealed.Input.Hash == "" {
				return nil // never bid
			}
			_, err := admins[nodes[i].org].WithdrawBid(cctx, nodes[i].id)
			return err
		})
	}()
	for _, n := range sizes {
		// Register and bid for the nodes this size adds.
		from := len(nodes)
		for i := from; i < n; i++ {
			org := i % orgs
			nodes = append(nodes, &node{id: fmt.Sprintf("cp-%05d-%s", i, records.OrgSlug(admins[org].MSPID())), org: org})
		}
		start := time.Now()
		if err := run(n-from, 64, func(j int) error {
			nd := nodes[from+j]
			i := from + j
			key, err := benchNodeKey()
			if err != nil {
				return err
			}
			_, err = admins[nd.org].RegisterNode(ctx, records.NodeInput{
				ID: nd.id, Endpoint: fmt.Sprintf("127.0.0.1:%d", 1+i%60000), Zone: fmt.Sprintf("cp-zone-%d", i%4),
				Latitude: float64(i%90) - 45, Longitude: float64(i%180) - 90, StorageBytes: 1 << 40, BandwidthBps: 1e9,
				PublicKey: key,
			})
			if err != nil {
				return err
			}
			nd.sealed, err = bids.Seal(records.BidTerms{Node: nd.id, StoragePerGBMonth: int64(10 + i%997), DeliveryPerMiB: int64(1 + i%13),
				CapacityBytes: 1 << 40, BandwidthBps: 1e9}, keys[nd.org])
			if err != nil {
				return err
			}
			// Under load another organisation's peer may not have
			// committed the registration yet when it endorses the bid.
			for try := 0; ; try++ {
				err = retryConflict(func() error { _, err := admins[nd.org].PlaceBid(ctx, nd.sealed.Input); return err })
				if err == nil || !errors.Is(err, records.ErrNotFound) || try == 10 {
					return err
				}
				time.Sleep(200 * time.Millisecond)
			}
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d nodes registered and bidding (%d new in %v)", n, n-from, time.Since(start).Round(time.Millisecond))
		// Every other active node is excluded: only ours are awaited.
		all, err := admins[0].ListNodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ours := map[string]bool{}
		for _, nd := range nodes[:n] {
			ours[nd.id] = true
		}
		var exclude []string
		for _, x := range all {
			if x.Active() && !ours[x.ID] {
				exclude = append(exclude, x.ID)
			}
		}
		in := records.AuctionInput{Object: fmt.Sprintf("bench/clear-%d.bin", n), Shards: 12, K: 8, ShardSize: 1 << 20, TermSeconds: 3600,
			Zones: []string{"cp-zone-0", "cp-zone-1", "cp-zone-2", "cp-zone-3"}, MaxStoragePerGBMonth: 2000, MaxDeliveryPerMiB: 100,
			HasLocation: true, Latitude: 47.37, Longitude: 8.54, RevealSeconds: records.MaxRevealSeconds, Exclude: exclude}
		var a *records.Auction
		if err := retryConflict(func() error { var err error; a, err = admins[0].OpenAuction(ctx, in); return err }); err != nil {
			t.Fatal(err)
		}
		if len(a.Awaited()) != n {
			t.Fatalf("the auction awaits %d bids, want our %d", len(a.Awaited()), n)
		}
		start = time.Now()
		if err := run(n, 64, func(i int) error {
			nd := nodes[i]
			return retryConflict(func() error { _, err := admins[nd.org].RevealBid(ctx, nd.sealed.Reveal(a.ID)); return err })
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d bids revealed in %v", n, time.Since(start).Round(time.Millisecond))
		var clearD, getD []time.Duration
		var sim *records.Auction
		for range 5 {
			t0 := time.Now()
			if sim, err = admins[0].EvaluateClear(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			clearD = append(clearD, time.Since(t0))
			t0 = time.Now()
			if _, err := admins[0].GetAuction(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			getD = append(getD, time.Since(t0))
		}
		if sim.Status != records.AuctionCleared || len(sim.Inputs) != n {
			t.Fatalf("simulated clearing: %s with %d inputs (%s)", sim.Status, len(sim.Inputs), sim.Failure)
		}
		slices.Sort(clearD)
		slices.Sort(getD)
		chaincode := clearD[2] - getD[2]
		figure := fmt.Sprintf("auction clearing on a real peer, %d revealed bids (evaluate of auction:Clear less auction:Get, median of 5)", n)
		measured := fmt.Sprintf("%.1f ms (evaluate %.1f ms, auction:Get %.1f ms)", ms(chaincode), ms(clearD[2]), ms(getD[2]))
		if n >= 10_000 {
			report(t, figure, "10,000 bids in < 1 s of chaincode time", measured, VerdictOf(chaincode < time.Second))
		} else {
			report(t, figure, "—", measured, Info)
		}
	}
}

// benchNodeKey is a fresh Ed25519 public key in PEM, a node's.
func benchNodeKey() (string, error) {
	p, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(p)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// run calls fn(0..n-1) on at most workers goroutines; the first error.
func run(n, workers int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, workers)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%d: %w", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// retryConflict retries fn while it loses an MVCC race, up to 5 times.
func retryConflict(fn func() error) error {
	for try := 0; ; try++ {
		err := fn()
		if err == nil || !errors.Is(err, ledger.ErrConflict) || try == 5 {
			return err
		}
	}
}
