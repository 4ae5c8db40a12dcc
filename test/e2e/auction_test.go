//go:build integration

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/auctionaudit"
	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestPublishByAuction: every publish of the suite's gateway (--auction)
// opens an auction the agents (--bid) reveal in, and its shards land
// exactly on the contracted nodes: the publish's placement, the ledger's
// manifest (which names the auction; the chaincode checked its holders
// against the contracts) and the auction's contracts agree, and dct audit
// verify-auction recomputes the last one to a match. It logs the publish latency
// and the auction's share of it (the gateway's "shards contracted" log).
func TestPublishByAuction(t *testing.T) {
	ctx := ctxT(t, 5*time.Minute)
	admin := orgAdmins(t)[env.Gateways[0].Org]
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := admin.AuctionEvents(sctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	var lat []time.Duration
	var last string
	for i := range n {
		name := fmt.Sprintf("e2e/auction/object-%d.bin", i)
		start := time.Now()
		res := publish(t, name, "application/octet-stream", payload(1<<20, int64(300+i)))
		lat = append(lat, time.Since(start))
		checkPlacement(t, res)
		ev := clearedEvent(t, events, name)
		last = ev.Auction
		cs, err := admin.AuctionContracts(ctx, ev.Auction)
		if err != nil {
			t.Fatal(err)
		}
		contracted := make([][]string, k+m)
		for _, c := range cs {
			contracted[c.Shard] = append(contracted[c.Shard], c.Node)
		}
		man, err := admin.LatestManifest(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if man.Auction != ev.Auction {
			t.Fatalf("%s names auction %q, cleared %s", name, man.Auction, ev.Auction)
		}
		for s := range k + m {
			slices.Sort(contracted[s])
			got := slices.Sorted(slices.Values(res.Placement[s]))
			if !slices.Equal(got, contracted[s]) || !slices.Equal(slices.Sorted(slices.Values(man.Shards[s].Nodes)), contracted[s]) {
				t.Fatalf("%s shard %d: placed on %v, recorded on %v, contracted to %v", name, s, got, man.Shards[s].Nodes, contracted[s])
			}
		}
	}
	// The auditor's offline recomputation of the last auction, through
	// the gateway's admin listener: every check matches.
	out, stderr, err := runCLIAs(t, testnetwork.RoleAuditor, "audit", "verify-auction", last)
	if err != nil {
		t.Fatalf("dct audit verify-auction %s: %v\n%s\n%s", last, err, out, stderr)
	}
	checks := decodeJSON[[]auctionaudit.Check](t, []byte(out))
	if !auctionaudit.OK(checks) || !strings.Contains(stderr, "all ") {
		t.Fatalf("dct audit verify-auction %s: %s", last, stderr)
	}
	t.Logf("dct audit verify-auction %s:\n%s", last, stderr)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	auction := auctionTimes(t)
	t.Logf("publish of 1 MiB with the auction, %d runs: p50 %v, max %v; the auction (open, reveals, clear) p50 %v of them",
		n, lat[n/2].Round(time.Millisecond), lat[n-1].Round(time.Millisecond), median(auction).Round(time.Millisecond))
}

// clearedEvent waits for the cleared auction event of object name.
func clearedEvent(t *testing.T, events <-chan ledger.AuctionEvent, name string) ledger.AuctionEvent {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("auction event stream closed")
			}
			if ev.Object == name && ev.Status == records.AuctionCleared {
				return ev
			}
		case <-timeout:
			t.Fatalf("no cleared auction for %s", name)
		}
	}
}

// auctionTimes reads the auction durations the gateway logged.
func auctionTimes(t *testing.T) []time.Duration {
	t.Helper()
	f, err := os.Open(env.LogFile(env.Gateways[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []time.Duration
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "shards contracted") || !strings.Contains(line, "e2e/auction/") {
			continue
		}
		_, rest, ok := strings.Cut(line, "took=")
		if !ok {
			continue
		}
		if d, err := time.ParseDuration(strings.Fields(rest)[0]); err == nil {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		t.Fatal("the gateway logged no auction")
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
