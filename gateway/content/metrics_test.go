package content_test

import (
	"context"

	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

// recorder is a content.Metrics that counts the hooks' calls.
type recorder struct {
	mu                                   sync.Mutex
	hits, misses, fetches, failures      int
	hedges, won, published, publishFails int
	repairs                              map[string]int
}

func (r *recorder) CacheHit()  { r.mu.Lock(); r.hits++; r.mu.Unlock() }
func (r *recorder) CacheMiss() { r.mu.Lock(); r.misses++; r.mu.Unlock() }
func (r *recorder) ShardFetch(_ string, _ time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failures++
		return
	}
	r.fetches++
}
func (r *recorder) HedgeLaunched() { r.mu.Lock(); r.hedges++; r.mu.Unlock() }
func (r *recorder) HedgeWon()      { r.mu.Lock(); r.won++; r.mu.Unlock() }
func (r *recorder) Published(_ time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.publishFails++
		return
	}
	r.published++
}
func (r *recorder) Repair(result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.repairs == nil {
		r.repairs = map[string]int{}
	}
	r.repairs[result]++
}

// TestMetricsHooks: a publish, a cold read and a warm read call the
// hooks: one publish, k shard fetches, a miss then a hit; a refused
// publish counts as a failed one.
func TestMetricsHooks(t *testing.T) {
	rec := &recorder{}
	s, _, _ := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 1 << 20 }, content.WithMetrics(rec))
	body := payload(5000)
	m := publishWith(t, s, "metrics/a.js", body)
	readBack(t, s, m, body)
	readBack(t, s, m, body)
	if _, err := s.Publish(context.Background(), "bad name//", "", 1, nil); err == nil {
		t.Fatal("a bad name was published")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.published != 1 || rec.publishFails != 1 || rec.misses != 1 || rec.hits != 1 || rec.fetches < m.K || rec.failures != 0 {
		t.Errorf("hooks: %+v (k=%d)", rec, m.K)
	}
}

// TestTolerances: the read tolerance is the shards with a live holder
// minus k, the write tolerance the live active nodes minus k+m; holders
// the topology reports failed count as lost.
func TestTolerances(t *testing.T) {
	topo := contenttest.NewTopology()
	s, _, _ := newTestService(t, 6, func(c *content.Config) { c.ManifestTTL = time.Hour }, content.WithTopology(topo))
	m := publishWith(t, s, "tol/a.js", payload(5000))
	if got := s.Tolerances(10); len(got) != 0 {
		t.Fatalf("before any lookup: %+v", got)
	}
	if _, err := s.Manifest(context.Background(), m.Name, ""); err != nil { // caches name@
		t.Fatal(err)
	}
	if _, err := s.Nodes(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := len(m.Shards)
	tests := []struct {
		fail        int
		read, write int
	}{
		{0, n - m.K, 6 - n},
		{1, n - m.K - 1, 6 - n - 1},
		{n - m.K + 1, -1, 6 - n - (n - m.K + 1)},
	}
	for _, tc := range tests {
		for i := range n {
			h := content.HealthAlive
			if i < tc.fail {
				h = content.HealthFailed
			}
			topo.SetHealth(m.Shards[i].Nodes[0], h)
		}
		got := s.Tolerances(10)
		if len(got) != 1 || got[0].Object != m.Name+"@"+m.Version || got[0].Read != tc.read || got[0].Write != tc.write {
			t.Errorf("%d holders failed: %+v, want read %d write %d", tc.fail, got, tc.read, tc.write)
		}
	}
	if got := s.Tolerances(0); len(got) != 0 {
		t.Errorf("max 0: %+v", got)
	}
}
