package content_test

import (
	"fmt"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// TestRoutingPrefersNearAndHealthy: with k=4 of 6 shards, reads go to the
// four nearest healthy holders only.
func TestRoutingPrefersNearAndHealthy(t *testing.T) {
	topo := contenttest.NewTopology()
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0 }, content.WithTopology(topo))
	body := payload(15_000) // decoded whole: one fetch per read
	m := publishWith(t, s, "route/a.js", body)
	holder := func(i int) string { return m.Shards[i].Nodes[0] }
	// Shards 0 and 3 are far; shard 5's holder is failed.
	for i := range 6 {
		topo.SetRTT(holder(i), time.Duration(1+i)*time.Millisecond)
	}
	topo.SetRTT(holder(0), 80*time.Millisecond)
	topo.SetRTT(holder(3), 90*time.Millisecond)
	topo.SetHealth(holder(5), content.HealthFailed)
	for range 5 {
		readBack(t, s, m, body)
	}
	st := s.FetchStats()
	// Shards 1, 2, 4 are near; the fourth shard needed is the nearer of
	// the far ones (0); the farther (3) and the failed (5) are never asked.
	for _, tc := range []struct{ shard, want int }{{1, 5}, {2, 5}, {4, 5}, {0, 5}, {3, 0}, {5, 0}} {
		if n := agents.Get(holder(tc.shard)).Gets(m.Shards[tc.shard].Hash); n != tc.want {
			t.Errorf("shard %d (holder %s) fetched %d times, want %d", tc.shard, holder(tc.shard), n, tc.want)
		}
	}
	if st.Launched != st.Needed || st.Hedges != 0 {
		t.Errorf("%d requests for %d needed, %d hedges: routing by estimates should need none", st.Launched, st.Needed, st.Hedges)
	}
}

// TestHedgingAroundAHungAgent: the nearest holder hangs; the read completes
// after about the hedge delay, not the agent timeout, at the cost of one
// extra request per read.
func TestHedgingAroundAHungAgent(t *testing.T) {
	tests := []struct {
		name  string
		hedge bool
	}{{"hedged", true}, {"not hedged", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := contenttest.NewTopology()
			s, _, agents := newTestService(t, 6, func(c *content.Config) {
				c.CacheBytes = 0
				c.Hedge = tt.hedge
				// Long enough that no healthy fetch is hedged even on a
				// loaded machine (which would rightly launch a second
				// extra request), well below the agent timeout.
				c.HedgeDefault, c.HedgeMin = 300*time.Millisecond, 300*time.Millisecond
				c.AgentTimeout = 3 * time.Second
			}, content.WithTopology(topo))
			body := payload(10_000)
			m := publishWith(t, s, "hedge/a.css", body)
			hung := m.Shards[0].Nodes[0]
			topo.SetRTT(hung, time.Microsecond) // looks nearest
			agents.Get(hung).SetDelay(time.Hour)
			took := readBack(t, s, m, body)
			st := s.FetchStats()
			if tt.hedge {
				if took > 2*time.Second || st.Hedges < 1 {
					t.Fatalf("hedged read took %s with %d hedges", took, st.Hedges)
				}
				if extra := st.Launched - st.Needed; extra != 1 {
					t.Fatalf("%d extra requests, want 1", extra)
				}
			} else if took < 3*time.Second || st.Hedges != 0 {
				t.Fatalf("unhedged read took %s (%d hedges): it should wait for the agent timeout", took, st.Hedges)
			}
		})
	}
}

// TestNearestOfThreeHolders: with r=3 every shard has three holders; a read
// asks each needed shard's lowest-latency holder, and when that one hangs
// the hedge goes to the shard's next-nearest holder, the fastest respondent
// winning.
func TestNearestOfThreeHolders(t *testing.T) {
	topo := contenttest.NewTopology()
	s, _, agents := newTestService(t, 12, func(c *content.Config) {
		c.CacheBytes = 0
		c.R = 3
		// Long enough that no healthy fetch is hedged even on a loaded
		// machine (a hedge would rightly ask a second holder).
		c.HedgeDefault, c.HedgeMin = 500*time.Millisecond, 500*time.Millisecond
	}, content.WithTopology(topo))
	for i := range 12 {
		topo.SetRTT(fmt.Sprintf("n%d", i), time.Duration(10+i)*time.Millisecond)
	}
	body := payload(20_000)
	m := publishWith(t, s, "r3/feed.json", body)
	for _, sh := range m.Shards {
		if len(sh.Nodes) != 3 {
			t.Fatalf("shard %d has holders %v, want 3", sh.Index, sh.Nodes)
		}
	}
	nearest := func(ids []string) string { return s.RankHolders(ids)[0] }
	// The ranking as the read sees it when it starts: the read's own
	// answers then update the observed latencies it ranks by.
	wantHolder := map[int]string{}
	for _, sh := range m.Shards {
		wantHolder[sh.Index] = nearest(sh.Nodes)
	}
	readBack(t, s, m, body)
	asked := 0
	for _, sh := range m.Shards {
		for _, id := range sh.Nodes {
			n := agents.Get(id).Gets(sh.Hash)
			if n > 0 && id != wantHolder[sh.Index] {
				t.Fatalf("shard %d read from %s, not its nearest holder %s", sh.Index, id, wantHolder[sh.Index])
			}
			asked += n
		}
	}
	if asked != m.K {
		t.Fatalf("%d shard requests, want k=%d", asked, m.K)
	}
	// The nearest holder of the best shard hangs: the hedge goes to that
	// shard's second-nearest holder, never to its third.
	var sh0 records.Shard
	for _, sh := range m.Shards {
		if agents.Get(nearest(sh.Nodes)).Gets(sh.Hash) > 0 {
			sh0 = sh
			break
		}
	}
	best := s.RankHolders(sh0.Nodes)
	agents.Get(best[0]).SetDelay(time.Hour)
	second, third := agents.Get(best[1]).Gets(sh0.Hash), agents.Get(best[2]).Gets(sh0.Hash)
	readBack(t, s, m, body)
	if n := agents.Get(best[1]).Gets(sh0.Hash) - second; n != 1 {
		for _, sh := range m.Shards {
			for _, id := range sh.Nodes {
				t.Logf("shard %d node %s gets %d", sh.Index, id, agents.Get(id).Gets(sh.Hash))
			}
		}
		t.Fatalf("second-nearest holder %s of shard %d got %d requests, want 1 (holders %v, stats %+v)", best[1], sh0.Index, n, best, s.FetchStats())
	}
	if n := agents.Get(best[2]).Gets(sh0.Hash) - third; n != 0 {
		t.Fatalf("third-nearest holder %s of shard %d got %d requests, want 0", best[2], sh0.Index, n)
	}
}

// TestHedgesSkipFailedHolders: hedges go to a holder the mesh reports
// failed only when nothing else is left.
func TestHedgesSkipFailedHolders(t *testing.T) {
	topo := contenttest.NewTopology()
	s, _, agents := newTestService(t, 6, func(c *content.Config) {
		c.CacheBytes = 0
		c.HedgeDefault, c.HedgeMin = 10*time.Millisecond, 10*time.Millisecond
	}, content.WithTopology(topo))
	body := payload(8000)
	m := publishWith(t, s, "hedge/failed.js", body)
	failed := m.Shards[5].Nodes[0]
	topo.SetHealth(failed, content.HealthFailed)
	// Shard 0 answers slowly: every read hedges, to the healthy spare.
	agents.Get(m.Shards[0].Nodes[0]).SetDelay(30 * time.Millisecond)
	for range 3 {
		readBack(t, s, m, body)
	}
	if n := agents.Get(failed).Gets(m.Shards[5].Hash); n != 0 {
		t.Fatalf("the failed holder got %d requests", n)
	}
	// Two healthy holders gone: the failed one is the last resort, once;
	// then this gateway's own failure keeps hedges away from it.
	agents.Get(failed).SetDown(true)
	agents.Get(m.Shards[2].Nodes[0]).SetDelay(40 * time.Millisecond)
	agents.Get(m.Shards[3].Nodes[0]).SetDelay(40 * time.Millisecond)
	readBack(t, s, m, body)
	before := agents.Get(failed).Gets(m.Shards[5].Hash)
	readBack(t, s, m, body)
	if n := agents.Get(failed).Gets(m.Shards[5].Hash) - before; n != 0 {
		t.Fatalf("hedges went %d times to a holder that failed and is failed in the mesh", n)
	}
	agents.Get(failed).SetDown(false)
	agents.Get(m.Shards[2].Nodes[0]).SetDelay(0)
	agents.Get(m.Shards[3].Nodes[0]).SetDelay(0)
	// With two healthy holders gone, the failed one is the last resort.
	agents.Get(m.Shards[0].Nodes[0]).SetDelay(0)
	agents.Get(m.Shards[0].Nodes[0]).SetDown(true)
	agents.Get(m.Shards[1].Nodes[0]).SetDown(true)
	before = agents.Get(failed).Gets(m.Shards[5].Hash)
	readBack(t, s, m, body)
	if n := agents.Get(failed).Gets(m.Shards[5].Hash) - before; n != 1 {
		t.Fatalf("the failed holder got %d requests as the last resort, want 1", n)
	}
}

// TestSlowNodeIsDeprioritized: a node whose requests keep losing to hedges
// ranks behind its peers on the next reads, whatever its RTT estimate, so
// reads stop paying for hedges.
func TestSlowNodeIsDeprioritized(t *testing.T) {
	topo := contenttest.NewTopology()
	s, _, agents := newTestService(t, 6, func(c *content.Config) {
		c.CacheBytes = 0
		c.HedgeDefault, c.HedgeMin = 20*time.Millisecond, 20*time.Millisecond
	}, content.WithTopology(topo))
	body := payload(10_000)
	m := publishWith(t, s, "slow/disk.js", body)
	slow := m.Shards[0].Nodes[0]
	for i := range 6 {
		topo.SetRTT(m.Shards[i].Nodes[0], time.Millisecond)
	}
	topo.SetRTT(slow, time.Microsecond) // the nearest by the network
	agents.Get(slow).SetDelay(time.Hour)
	readBack(t, s, m, body)
	first := s.FetchStats()
	if first.Hedges != 1 {
		t.Fatalf("first read: %d hedges, want 1", first.Hedges)
	}
	// The outpaced request is cancelled as the read returns; its lower
	// bound lands just after.
	deadline := time.Now().Add(5 * time.Second)
	for s.FetchStats().Nodes[slow].LatencyEWMA == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	readBack(t, s, m, body)
	second := s.FetchStats()
	if n := second.Launched - first.Launched; n != int64(m.K) || second.Hedges != first.Hedges {
		t.Fatalf("second read sent %d requests (%d hedges), want k=%d and none", n, second.Hedges-first.Hedges, m.K)
	}
	if n := agents.Get(slow).Gets(m.Shards[0].Hash); n != 1 {
		t.Fatalf("the slow node was asked %d times, want once", n)
	}
}

// TestOverSendingCopyIsReported: an answer longer than what was asked is
// not the copy the manifest describes: the read takes another shard and
// the copy is queued for repair.
func TestOverSendingCopyIsReported(t *testing.T) {
	q := make(chan content.RepairRequest, 8)
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0 }, content.WithRepairQueue(q))
	body := payload(15_000)
	m := publishWith(t, s, "over/a.js", body)
	bad := m.Shards[0].Nodes[0]
	agents.Get(bad).SetOverSend(1)
	readBack(t, s, m, body)
	select {
	case r := <-q:
		if r.Node != bad || r.Shard != 0 {
			t.Fatalf("repair request %+v, want shard 0 on %s", r, bad)
		}
	default:
		t.Fatal("the over-sending copy was not reported")
	}
}
