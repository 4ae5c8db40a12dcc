package sim

import (
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/routing"
)

// hedgeWindow is a gateway's window of recent shard-fetch latencies, the
// hedge delay being their p95 (as the gateway's tracker: HedgeWindow
// samples, recomputed every HedgeEvery, HedgeDefault until
// HedgeMinSamples).
type hedgeWindow struct {
	ring           [routing.HedgeWindow]time.Duration
	next           int
	full           bool
	samples, p95At int64
	p95            time.Duration
	sorted         []time.Duration
}

func (h *hedgeWindow) add(d time.Duration) {
	h.samples++
	h.ring[h.next] = d
	h.next = (h.next + 1) % len(h.ring)
	if h.next == 0 {
		h.full = true
	}
}

func (h *hedgeWindow) delay(lo, hi, def time.Duration) time.Duration {
	n := h.next
	if h.full {
		n = len(h.ring)
	}
	if n < routing.HedgeMinSamples {
		return def
	}
	if h.p95 == 0 || h.samples-h.p95At >= routing.HedgeEvery {
		h.sorted = append(h.sorted[:0], h.ring[:n]...)
		slices.Sort(h.sorted)
		h.p95, h.p95At = routing.HedgeDelay(h.sorted, 1, math.MaxInt64), h.samples
	}
	return min(max(h.p95, lo), hi)
}

// gateway is one simulated DCT gateway: where it is and its hedge window.
type gateway struct {
	id  uint64
	at  Point
	win hedgeWindow
}

// nodeState is what a read meets at a node: up, refusing at once (the
// process is gone, the host answers), or silent (the host or its region
// is unreachable: the request hangs until the agent timeout).
type nodeState int

const (
	nodeUp nodeState = iota
	nodeRefuses
	nodeSilent
)

// agentTimeout bounds a request to a silent node (content.Config's
// AgentTimeout default).
const agentTimeout = 30 * time.Second

// readEnv is what a read needs of the world beyond the placement.
type readEnv struct {
	w *World
	// view is the gateway's view of a node's health (its mesh); state is
	// what the node really does.
	view  func(n int32) routing.Health
	state func(n int32) nodeState
	// draw gives uniform numbers for server times.
	draw func() float64
	// rtt, when set, is the network RTT from a gateway to a node instead
	// of the geographic model's (Predict: RTTs given).
	rtt func(g *gateway, n int32) time.Duration
	// est, when set, is the gateway's RTT estimate of a node (Predict:
	// the real mesh's estimates).
	est func(n int32) (time.Duration, bool)
}

// netRTT is the network RTT from gateway g to node n.
func (e *readEnv) netRTT(g *gateway, n int32) time.Duration {
	if e.rtt != nil {
		return e.rtt(g, n)
	}
	return e.w.netRTT(g.at, n)
}

// attempt is one simulated shard request.
type attempt struct {
	shard      int
	node       int32
	start, end time.Duration
	ok         bool
	hedged     bool
	live       bool
}

// readResult is a read's outcome.
type readResult struct {
	// latency is the time to the k-th shard (edge to data); km the mean
	// distance from the gateway to the holders that delivered (each
	// delivers 1/k of the bytes); from those holders; asked every node a
	// shard request went to, launched their number.
	latency  time.Duration
	km       float64
	from     []int32
	asked    []int32
	launched int
	ok       bool
}

// estimate is the gateway's RTT estimate of node n: the true network RTT
// off by up to ±EstimateError, fixed per gateway and node (the mesh's
// Vivaldi coordinates are good to tens of percent).
func (e *readEnv) estimate(g *gateway, n int32) time.Duration {
	w := e.w
	if e.est != nil {
		if d, ok := e.est(n); ok {
			return d
		}
	}
	d := e.netRTT(g, n)
	if w.cfg.EstimateError == 0 {
		return d
	}
	h := fnv.New64a()
	var b [24]byte
	for i := range 8 {
		b[i] = byte(w.cfg.Seed >> (8 * i))
		b[8+i] = byte(g.id >> (8 * i))
		b[16+i] = byte(uint64(n) >> (8 * i))
	}
	h.Write(b[:])
	u := float64(h.Sum64()>>11) / (1 << 53)
	return time.Duration(float64(d) * (1 + w.cfg.EstimateError*(2*u-1)))
}

// netRTT is the network RTT from a point to node n.
func (w *World) netRTT(p Point, n int32) time.Duration {
	return w.cfg.Latency.Propagation(p.To(w.nodes[n].at)) + w.cfg.Latency.NodeLastMile
}

// read simulates one gateway read of object o, as content.Service.fetch
// does it: the holders ranked and the shards ordered by routing.NewPlan;
// k requests at once; a failed request replaced by routing.Plan.Next; a
// request unanswered after the hedge delay hedged by Next(shard, true); the
// first k shards win.
func (e *readEnv) read(g *gateway, o int, holders [][]routing.Holder) readResult {
	w := e.w
	cfg := w.cfg
	lat := cfg.Latency
	for s, hs := range w.holders[o] {
		holders[s] = holders[s][:0]
		for _, n := range hs {
			holders[s] = append(holders[s], routing.Holder{Node: w.nodes[n].id, Health: e.view(n), Cost: e.estimate(g, n), Score: records.UnscoredSLAScore})
		}
	}
	plan := routing.NewPlan(holders, cfg.ScoreBand)
	after := cfg.HedgeDefault
	if cfg.Hedge {
		after = g.win.delay(cfg.HedgeMin, cfg.HedgeMax, cfg.HedgeDefault)
	}
	var atts []attempt
	var res readResult
	launch := func(shard int, hedge bool, t time.Duration) bool {
		pk, ok := plan.Next(shard, hedge, nil)
		if !ok {
			return false
		}
		n := w.byID[pk.Node]
		a := attempt{shard: pk.Shard, node: n, start: t, live: true}
		switch e.state(n) {
		case nodeUp:
			a.end, a.ok = t+e.netRTT(g, n)+lat.server(e.draw(), e.draw()), true
		case nodeRefuses:
			a.end = t + e.netRTT(g, n)
		default:
			a.end = t + agentTimeout
		}
		atts = append(atts, a)
		res.launched++
		res.asked = append(res.asked, n)
		return true
	}
	for range cfg.K {
		launch(-1, false, 0)
	}
	timer := after
	timerOn := true
	have := 0
	for have < cfg.K {
		next := -1
		for i := range atts {
			if atts[i].live && (next < 0 || atts[i].end < atts[next].end) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		if timerOn && timer <= atts[next].end {
			if !cfg.Hedge {
				timerOn = false
				continue
			}
			t := timer
			due := after
			for i := range len(atts) {
				a := &atts[i]
				if !a.live || a.hedged || plan.Done(a.shard) {
					continue
				}
				if age := t - a.start; age >= after {
					a.hedged = true
					launch(a.shard, true, t)
				} else {
					due = min(due, after-age)
				}
			}
			timer = t + max(due, time.Millisecond)
			continue
		}
		a := &atts[next]
		a.live = false
		if !a.ok {
			launch(a.shard, false, a.end)
			continue
		}
		if plan.Done(a.shard) {
			continue
		}
		plan.Arrived(a.shard)
		have++
		g.win.add(a.end - a.start)
		res.from = append(res.from, a.node)
		res.km += g.at.To(w.nodes[a.node].at)
		res.latency = a.end
		for i := range atts {
			if atts[i].shard == a.shard {
				atts[i].live = false
			}
		}
	}
	if have < cfg.K {
		return res
	}
	res.ok = true
	res.km /= float64(cfg.K)
	return res
}
