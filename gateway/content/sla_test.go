package content_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

type scoreMap map[string]records.SLAScore

func (m scoreMap) Score(node string) (records.SLAScore, bool) { s, ok := m[node]; return s, ok }

// TestRoutingPrefersHigherScoreAmongNear: holders in the same 10 ms band
// of cost are ranked by SLA score, then cost; a farther band comes after
// whatever its score.
func TestRoutingPrefersHigherScoreAmongNear(t *testing.T) {
	topo := contenttest.NewTopology()
	scores := scoreMap{
		"n0": {Node: "n0", Score: 5000, State: records.SLAStateWarning},
		"n1": {Node: "n1", Score: 9500, State: records.SLAStateOK},
		"n2": {Node: "n2", Score: 10000, State: records.SLAStateOK},
		// n3 is unscored (8000).
	}
	s, _, _ := newTestService(t, 4, nil, content.WithTopology(topo), content.WithScores(scores, 0))
	for id, d := range map[string]time.Duration{"n0": 12 * time.Millisecond, "n1": 15 * time.Millisecond, "n2": 25 * time.Millisecond, "n3": 11 * time.Millisecond} {
		topo.SetRTT(id, d)
	}
	if got := fmt.Sprint(s.RankHolders([]string{"n0", "n1", "n2", "n3"})); got != "[n1 n3 n0 n2]" {
		t.Fatalf("ranked %s, want [n1 n3 n0 n2]", got)
	}
	// Without scores: by cost only.
	plain, _, _ := newTestService(t, 4, nil, content.WithTopology(topo))
	if got := fmt.Sprint(plain.RankHolders([]string{"n0", "n1", "n2", "n3"})); got != "[n3 n0 n1 n2]" {
		t.Fatalf("ranked %s without scores, want [n3 n0 n1 n2]", got)
	}
}

// TestPenalizedNodesGetNoNewShards: a publish places nothing on a
// penalized node.
func TestPenalizedNodesGetNoNewShards(t *testing.T) {
	scores := scoreMap{"n0": {Node: "n0", Score: 1000, State: records.SLAStatePenalized}, "n1": {Node: "n1", Score: 6000, State: records.SLAStateWarning}}
	s, _, _ := newTestService(t, 7, nil, content.WithScores(scores, 0))
	warned := false
	for i := range 5 {
		m := publishWith(t, s, fmt.Sprintf("sla/obj%d", i), payload(5000))
		for _, sh := range m.Shards {
			for _, n := range sh.Nodes {
				if n == "n0" {
					t.Fatalf("shard %d of %s placed on penalized n0", sh.Index, m)
				}
				warned = warned || n == "n1"
			}
		}
	}
	if !warned {
		t.Fatal("a node in warning got no shard: only penalized nodes are left out")
	}
}

type observed struct {
	mu                                      sync.Mutex
	sent, answered, latencies, failed, dels map[string]int
}

func newObserved() *observed {
	return &observed{sent: map[string]int{}, answered: map[string]int{}, latencies: map[string]int{}, failed: map[string]int{}, dels: map[string]int{}}
}

func (o *observed) Probe(n string, answered bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent[n]++
	if answered {
		o.answered[n]++
	}
}
func (o *observed) Latency(n string, _ time.Duration) { o.mu.Lock(); o.latencies[n]++; o.mu.Unlock() }
func (o *observed) Failed(n string)                   { o.mu.Lock(); o.failed[n]++; o.mu.Unlock() }
func (o *observed) Delivered(n string, _ int64)       { o.mu.Lock(); o.dels[n]++; o.mu.Unlock() }

// TestObserverSeesReads: every shard request's outcome, corrupt copies
// and verified deliveries reach the SLA observer.
func TestObserverSeesReads(t *testing.T) {
	obs := newObserved()
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0; c.Hedge = false }, content.WithObserver(obs))
	body := payload(15_000)
	m := publishWith(t, s, "sla/read.js", body)
	down := m.Shards[0].Nodes[0]
	bad := m.Shards[1].Nodes[0]
	agents.Get(down).SetDown(true)
	agents.Get(bad).Corrupt()
	readBack(t, s, m, body)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	total, dels := 0, 0
	for _, sh := range m.Shards {
		total += obs.sent[sh.Nodes[0]]
		dels += obs.dels[sh.Nodes[0]]
	}
	// The first pass decodes without hashing shards; the corrupt copy
	// fails AES-GCM, and the second pass fetches whole shards (asking the
	// down node again) and lets their hashes exclude the corrupt one.
	if obs.sent[down] < 1 || obs.answered[down] != 0 {
		t.Errorf("down node: %d probes, %d answered", obs.sent[down], obs.answered[down])
	}
	if obs.failed[bad] != 1 || obs.dels[bad] != 0 {
		t.Errorf("corrupt node: %d failed, %d delivered", obs.failed[bad], obs.dels[bad])
	}
	if dels != m.K || total < m.K+2 || total > 2*(m.K+2) {
		t.Errorf("%d verified deliveries (want k=%d), %d requests (want k+2 to 2(k+2))", dels, m.K, total)
	}
}
