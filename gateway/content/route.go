package content

import (
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/gateway/routing"
)

// Health is what a gateway knows of an edge node's reachability
// (routing.Health).
type Health = routing.Health

// Health values, best first.
const (
	HealthUnknown = routing.HealthUnknown
	HealthAlive   = routing.HealthAlive
	HealthSuspect = routing.HealthSuspect
	HealthFailed  = routing.HealthFailed
)

// Topology is the gateway's view of the mesh (package mesh implements it):
// each node's health and estimated round-trip time.
type Topology interface {
	// Node reports the node's health and, when known, its estimated RTT.
	Node(id string) (h Health, rtt time.Duration, hasRTT bool)
}

// NodeStats are a gateway's shard-fetch counters for one node.
type NodeStats struct {
	Fetches       int64         `json:"fetches"`
	Failures      int64         `json:"failures"`
	Hedges        int64         `json:"hedges"`
	LatencyEWMA   time.Duration `json:"latencyEwmaNs"`
	LastAttemptAt time.Time     `json:"lastAttemptAt"`
	// sampledAt is when LatencyEWMA last changed; failedAt when a request
	// to the node last failed.
	sampledAt, failedAt time.Time
}

// FetchStats are the gateway's shard-fetch counters.
type FetchStats struct {
	// Reads is the number of shard-range reads (each needs k shards).
	Reads int64 `json:"reads"`
	// Needed is k summed over reads; Launched counts every shard request
	// sent, so Launched-Needed are the extra requests of hedging and
	// failures.
	Needed   int64                `json:"needed"`
	Launched int64                `json:"launched"`
	Hedges   int64                `json:"hedges"`
	HedgeAt  time.Duration        `json:"hedgeDelayNs"`
	Nodes    map[string]NodeStats `json:"nodes"`
}

// tracker keeps recent shard-fetch latencies (the hedge delay is their p95)
// and per-node statistics.
type tracker struct {
	mu       sync.Mutex
	ring     []time.Duration
	next     int
	full     bool
	nodes    map[string]*NodeStats
	reads    int64
	needed   int64
	launched int64
	hedges   int64
	// samples counts the latencies recorded; p95 is the window's p95 as
	// of p95At samples (sorting the window on every read cost more than
	// the hedging it steers).
	samples, p95At int64
	p95            time.Duration
}

const trackerWindow = routing.HedgeWindow

// p95Every is how many new samples make hedgeDelay sort the window again.
const p95Every = routing.HedgeEvery

func newTracker() *tracker {
	return &tracker{ring: make([]time.Duration, trackerWindow), nodes: map[string]*NodeStats{}}
}

func (t *tracker) node(id string) *NodeStats {
	n, ok := t.nodes[id]
	if !ok {
		n = &NodeStats{}
		t.nodes[id] = n
	}
	return n
}

func (t *tracker) attempt(id string, hedge bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.node(id)
	n.Fetches++
	n.LastAttemptAt = time.Now()
	t.launched++
	if hedge {
		n.Hedges++
		t.hedges++
	}
}

func (t *tracker) done(id string, d time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.node(id)
	if err != nil {
		n.Failures++
		n.failedAt = time.Now()
		return
	}
	n.sample(d)
	t.samples++
	t.ring[t.next] = d
	t.next = (t.next + 1) % len(t.ring)
	if t.next == 0 {
		t.full = true
	}
}

// outpaced records a request cancelled after d because another holder
// answered first: the node took at least d, a lower bound that makes a
// node with a slow data path rank behind its peers (it stays out of the
// p95 behind the hedge delay).
func (t *tracker) outpaced(id string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.node(id).sample(d)
}

func (n *NodeStats) sample(d time.Duration) {
	if n.LatencyEWMA == 0 || time.Since(n.sampledAt) > ewmaTTL {
		n.LatencyEWMA = d
	} else {
		n.LatencyEWMA = (7*n.LatencyEWMA + d) / 8
	}
	n.sampledAt = time.Now()
}

// ewmaTTL is how long a node's observed latency steers routing; after it
// the node is judged by its RTT estimate again and so gets asked, and
// measured, anew.
const ewmaTTL = 3 * time.Second

func (t *tracker) read(k int) {
	t.mu.Lock()
	t.reads++
	t.needed += int64(k)
	t.mu.Unlock()
}

// failedRecently reports a request to the node that failed within ewmaTTL.
func (t *tracker) failedRecently(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.nodes[id]
	return ok && !n.failedAt.IsZero() && time.Since(n.failedAt) <= ewmaTTL
}

// ewma is the node's smoothed fetch latency, if any.
func (t *tracker) ewma(id string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.nodes[id]; ok && n.LatencyEWMA > 0 && time.Since(n.sampledAt) <= ewmaTTL {
		return n.LatencyEWMA, true
	}
	return 0, false
}

// hedgeDelay is the p95 of recent latencies within [lo, hi]; def until
// enough samples exist. The p95 is recomputed every p95Every samples.
func (t *tracker) hedgeDelay(lo, hi, def time.Duration) time.Duration {
	t.mu.Lock()
	n := t.next
	if t.full {
		n = len(t.ring)
	}
	if n < routing.HedgeMinSamples {
		t.mu.Unlock()
		return def
	}
	if t.p95 > 0 && t.samples-t.p95At < p95Every {
		p := t.p95
		t.mu.Unlock()
		return min(max(p, lo), hi)
	}
	s := slices.Clone(t.ring[:n])
	at := t.samples
	t.mu.Unlock()
	slices.Sort(s)
	p := routing.HedgeDelay(s, 1, time.Duration(1<<63-1))
	t.mu.Lock()
	if at >= t.p95At {
		t.p95, t.p95At = p, at
	}
	t.mu.Unlock()
	return min(max(p, lo), hi)
}

func (t *tracker) stats() FetchStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := FetchStats{Reads: t.reads, Needed: t.needed, Launched: t.launched, Hedges: t.hedges, Nodes: map[string]NodeStats{}}
	for id, n := range t.nodes {
		out.Nodes[id] = *n
	}
	return out
}
