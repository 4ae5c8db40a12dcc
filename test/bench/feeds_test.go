//go:build bench

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/demo"
	"github.com/dct-network/dct/gateway"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/test/internal/testenv"
)

// feedTarget: a new version of a feed is served by every gateway within
// this of its commit, at the 99th percentile.
const feedTarget = time.Second

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}

func metOrNot(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// TestLiveFeeds measures live feeds: a 1 KiB feed republished through
// Org1's gateway, one publish at a time (publish latency, and the delay
// until Org2's gateway serves each new version at its unversioned URL,
// polled every 5 ms), then the sustained publish rate of many feeds by
// concurrent publishers with the visibility delay under that load. Both
// gateways run with their defaults (manifest events followed, 1 s polling
// TTL as the fallback), in this process.
func TestLiveFeeds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	pubGW, err := testenv.StartGateway(ctx, desc, desc.Orgs[0].MSPID, func(c *gateway.Config) { c.AdminRate = 0 })
	if err != nil {
		t.Fatal(err)
	}
	readGW, err := testenv.StartGateway(ctx, desc, desc.Orgs[1].MSPID, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitLive(t, ctx, readGW.URL)
	pub := testenv.Publisher(desc, pubGW)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	// One feed, one publish at a time.
	sequential := envInt("DCT_FEED_BENCH_PUBLISHES", 50)
	feed, err := demo.NewQuoteFeed(7, 1024)
	if err != nil {
		t.Fatal(err)
	}
	probe := &testenv.LatestProbe{URL: readGW.URL + "/cdn/feeds/bench/one.json", Client: hc}
	var took, visible, total []time.Duration
	for i := 0; i < sequential; i++ {
		start, committed, v, err := publishFeed(ctx, pub, "feeds/bench/one.json", feed)
		if err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		seen, err := probe.WaitFor(wctx, v, 5*time.Millisecond)
		wcancel()
		if err != nil {
			t.Fatal(err)
		}
		took = append(took, committed.Sub(start))
		visible = append(visible, max(0, seen.Sub(committed)))
		total = append(total, seen.Sub(start))
	}

	// Many feeds, concurrent publishers.
	feeds, publishers := envInt("DCT_FEED_BENCH_FEEDS", 50), envInt("DCT_FEED_BENCH_PUBLISHERS", 8)
	d := envDuration("DCT_FEED_BENCH_DURATION", 20*time.Second)
	var (
		mu         sync.Mutex
		loadTook   []time.Duration
		loadSeen   []time.Duration
		committedN atomic.Int64
		failedN    atomic.Int64
		wg         sync.WaitGroup
	)
	loadStart := time.Now()
	// Publishes start until the deadline; the last ones finish after it.
	deadline := loadStart.Add(d)
	for p := 0; p < publishers; p++ {
		type check struct {
			probe     *testenv.LatestProbe
			version   int
			committed time.Time
		}
		checks := make(chan check, 1024)
		wg.Add(2)
		go func() { // the publisher: its feeds round-robin, as fast as they commit
			defer wg.Done()
			defer close(checks)
			var names []string
			gens := map[string]*demo.QuoteFeed{}
			probes := map[string]*testenv.LatestProbe{}
			for f := p; f < feeds; f += publishers {
				name := fmt.Sprintf("feeds/bench/f%03d.json", f)
				names = append(names, name)
				gens[name], _ = demo.NewQuoteFeed(uint64(f), 1024)
				probes[name] = &testenv.LatestProbe{URL: readGW.URL + "/cdn/" + name, Client: hc}
			}
			for i := 0; time.Now().Before(deadline); i++ {
				name := names[i%len(names)]
				start, committed, v, err := publishFeed(ctx, pub, name, gens[name])
				if err != nil {
					failedN.Add(1)
					t.Logf("publish %s: %v", name, err)
					continue
				}
				committedN.Add(1)
				mu.Lock()
				loadTook = append(loadTook, committed.Sub(start))
				mu.Unlock()
				checks <- check{probes[name], v, committed}
			}
		}()
		go func() { // its checker: when each version is served by the other gateway
			defer wg.Done()
			for c := range checks {
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				seen, err := c.probe.WaitFor(wctx, c.version, 10*time.Millisecond)
				wcancel()
				if err != nil {
					t.Errorf("visibility: %v", err)
					continue
				}
				mu.Lock()
				loadSeen = append(loadSeen, max(0, seen.Sub(c.committed)))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(loadStart)

	p := testenv.Percentile
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Printf("\nLive feeds, 1 KiB, k=4 m=2: publisher at Org1's gateway, reader at Org2's (both in this process, manifest events on; 2 cores shared with Fabric and the agents):\n")
	fmt.Printf("  one feed, %d publishes one at a time:\n", sequential)
	fmt.Printf("    publish request -> 201 (committed)        : p50 %v, p99 %v\n", r(p(took, .5)), r(p(took, .99)))
	fmt.Printf("    201 -> served by the other gateway        : p50 %v, p99 %v   target p99 <= %v: %s\n",
		r(p(visible, .5)), r(p(visible, .99)), feedTarget, metOrNot(p(visible, .99) <= feedTarget))
	fmt.Printf("    publish request -> served by the other     : p50 %v, p99 %v\n", r(p(total, .5)), r(p(total, .99)))
	fmt.Printf("  %d feeds, %d concurrent publishers, %v:\n", feeds, publishers, r(elapsed))
	fmt.Printf("    committed publishes                        : %d = %.1f/s (%d failed)\n", committedN.Load(), float64(committedN.Load())/elapsed.Seconds(), failedN.Load())
	fmt.Printf("    publish request -> 201 under load          : p50 %v, p99 %v\n", r(p(loadTook, .5)), r(p(loadTook, .99)))
	fmt.Printf("    201 -> served by the other gateway (n=%d) : p50 %v, p99 %v   target p99 <= %v: %s\n",
		len(loadSeen), r(p(loadSeen, .5)), r(p(loadSeen, .99)), feedTarget, metOrNot(p(loadSeen, .99) <= feedTarget))
	report(t, "live feed 1 KiB: publish request -> 201, one at a time", "", fmt.Sprintf("p50 %v, p99 %v", r(p(took, .5)), r(p(took, .99))), Info)
	report(t, "live feed 1 KiB: 201 -> served by the other organisation's gateway, one at a time", fmt.Sprintf("p99 ≤ %v", feedTarget),
		fmt.Sprintf("p50 %v, p99 %v", r(p(visible, .5)), r(p(visible, .99))), VerdictOf(p(visible, .99) <= feedTarget))
	report(t, fmt.Sprintf("live feeds: sustained publish rate, %d feeds, %d publishers", feeds, publishers), "",
		fmt.Sprintf("%.1f/s (%d committed, %d failed)", float64(committedN.Load())/elapsed.Seconds(), committedN.Load(), failedN.Load()), Info)
	report(t, "live feeds under that load: 201 -> served by the other gateway", fmt.Sprintf("p99 ≤ %v", feedTarget),
		fmt.Sprintf("p50 %v, p99 %v (n=%d)", r(p(loadSeen, .5)), r(p(loadSeen, .99)), len(loadSeen)), VerdictOf(p(loadSeen, .99) <= feedTarget))
	if committedN.Load() == 0 {
		t.Fatal("no publish committed under load")
	}
}

// publishFeed publishes the feed's next document as name: when the
// request was sent, when its 201 (the version committed) arrived, and the
// version.
func publishFeed(ctx context.Context, pub *gatewayclient.Client, name string, feed *demo.QuoteFeed) (start, committed time.Time, version int, err error) {
	body, err := feed.Next()
	if err != nil {
		return
	}
	start = time.Now()
	res, err := pub.Publish(ctx, name, "application/json", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		return
	}
	committed = time.Now()
	version, err = strconv.Atoi(res.Version)
	return
}

// waitLive waits until the gateway follows the manifest events.
func waitLive(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var h api.HealthResponse
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if h.ManifestEvents == "live" {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%s never followed the manifest events (%v %+v)", base, err, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
