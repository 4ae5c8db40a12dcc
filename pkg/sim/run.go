package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/dct-network/dct/gateway/routing"
)

// System names a routing compared: centralized PoPs or DCT.
type System string

// Systems.
const (
	SystemPoP System = "pop"
	SystemDCT System = "dct"
)

// Stats summarise one system at one edge count over a run.
type Stats struct {
	System System
	Edges  int
	// Requests served and failed (DCT: fewer than k shards).
	Requests, Failed int
	// Hits served from the edge's cache.
	Hits int
	// KM is the data travel distance per request (user to edge, plus on a
	// miss edge to data: the origin, or the mean of the k holders'
	// distances, each delivering 1/k of the bytes); RTT the user's time to
	// the data; EdgeRTT the edge's time to the data on a miss.
	KM, RTT, EdgeRTT Dist
	// EdgeUnder10 is the share of misses whose edge-to-data time is under
	// 10 ms; RTTUnder10 the share of requests under 10 ms for the user.
	EdgeUnder10, RTTUnder10 float64
	// Launched is DCT's shard requests per miss (k plus hedges and
	// replacements).
	Launched float64
}

// Dist is a distribution's summary.
type Dist struct{ Mean, P50, P95, P99 float64 }

func (d Dist) String() string {
	return fmt.Sprintf("mean %.1f p50 %.1f p95 %.1f p99 %.1f", d.Mean, d.P50, d.P95, d.P99)
}

func summarise(v []float32) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	slices.Sort(v)
	sum := 0.0
	for _, x := range v {
		sum += float64(x)
	}
	q := func(p float64) float64 { return float64(v[min(len(v)-1, int(p*float64(len(v))))]) }
	return Dist{Mean: sum / float64(len(v)), P50: q(0.5), P95: q(0.95), P99: q(0.99)}
}

func share(v []float32, below float32) float64 {
	if len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		if x < below {
			n++
		}
	}
	return float64(n) / float64(len(v))
}

// Result is a run's figures: per system and edge count, and per node the
// shard deliveries DCT routed to it (for the first edge count).
type Result struct {
	Config  Config
	Stats   []Stats
	Served  map[string]int64
	Elapsed time.Duration
}

// Find returns the stats of system at k edges.
func (r *Result) Find(sys System, k int) (Stats, bool) {
	for _, s := range r.Stats {
		if s.System == sys && s.Edges == k {
			return s, true
		}
	}
	return Stats{}, false
}

type collector struct {
	km, rtt, edge []float32
	hits, failed  int
	launched      int
	misses        int
}

func ms(d time.Duration) float32 { return float32(float64(d) / float64(time.Millisecond)) }

// Run drives cfg.Requests requests through every system at every edge
// count: users drawn by city weight, objects by Zipf popularity; PoPs by
// anycast to the nearest, misses to the single origin; DCT by the
// nearest gateway and, on a miss, its real holder ranking and hedging
// (see read). A PoP and a DCT gateway at the same site see the same
// requests and share one cache, so their hits are the same.
func (w *World) Run() *Result {
	start := time.Now()
	cfg := w.cfg
	lat := cfg.Latency
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7e9))
	env := &readEnv{w: w, view: func(int32) routing.Health { return routing.HealthAlive }, state: func(int32) nodeState { return nodeUp }, draw: rng.Float64}
	type edgeSet struct {
		k     int
		gws   []*gateway
		cache []*lru.LRU[int, struct{}]
		pop   collector
		dct   collector
	}
	var sets []*edgeSet
	for _, k := range cfg.Edges {
		k = min(k, len(w.order))
		s := &edgeSet{k: k}
		for i := range k {
			s.gws = append(s.gws, &gateway{id: uint64(i), at: w.Site(i)})
			if cfg.CacheObjects > 0 {
				c, _ := lru.NewLRU[int, struct{}](cfg.CacheObjects, nil)
				s.cache = append(s.cache, c)
			}
		}
		sets = append(sets, s)
	}
	origin := w.Site(0)
	served := map[string]int64{}
	holders := make([][]routing.Holder, cfg.K+cfg.M)
	for r := range cfg.Requests {
		c := w.drawCity(rng.Float64())
		user := Point{w.cities[c].Lat, w.cities[c].Lon}.jitter(cfg.JitterKM, rng.Float64(), rng.Float64())
		access := lat.access(rng.Float64())
		o := draw(w.zipfCDF, rng.Float64())
		for si, s := range sets {
			e := int(w.nearest[cfg.Edges[si]][c])
			if e >= s.k {
				e = 0
			}
			site := w.Site(e)
			up := user.To(site)
			front := access + lat.Propagation(up) + lat.server(rng.Float64(), rng.Float64())
			hit := false
			if s.cache != nil {
				if _, hit = s.cache[e].Get(o); !hit {
					s.cache[e].Add(o, struct{}{})
				}
			}
			// PoP: a miss goes to the origin.
			p := &s.pop
			if hit {
				p.hits++
				p.km = append(p.km, float32(up))
				p.rtt = append(p.rtt, ms(front))
			} else {
				d := site.To(origin)
				back := lat.Propagation(d) + lat.NodeLastMile + lat.server(rng.Float64(), rng.Float64())
				p.misses++
				p.km = append(p.km, float32(up+d))
				p.rtt = append(p.rtt, ms(front+back))
				p.edge = append(p.edge, ms(back))
			}
			// DCT: a miss reads k shards from the holders.
			q := &s.dct
			if hit {
				q.hits++
				q.km = append(q.km, float32(up))
				q.rtt = append(q.rtt, ms(front))
				continue
			}
			res := env.read(s.gws[e], o, holders)
			q.misses++
			q.launched += res.launched
			if !res.ok {
				q.failed++
				continue
			}
			q.km = append(q.km, float32(up+res.km))
			q.rtt = append(q.rtt, ms(front+res.latency))
			q.edge = append(q.edge, ms(res.latency))
			if si == 0 {
				for _, n := range res.from {
					served[w.nodes[n].id]++
				}
			}
		}
		_ = r
	}
	out := &Result{Config: cfg, Served: served}
	for _, s := range sets {
		for _, x := range []struct {
			sys System
			c   *collector
		}{{SystemPoP, &s.pop}, {SystemDCT, &s.dct}} {
			st := Stats{System: x.sys, Edges: s.k, Requests: len(x.c.km), Failed: x.c.failed, Hits: x.c.hits,
				EdgeUnder10: share(x.c.edge, 10), RTTUnder10: share(x.c.rtt, 10)}
			if x.c.misses > 0 {
				st.Launched = float64(x.c.launched) / float64(x.c.misses)
			}
			st.KM, st.RTT, st.EdgeRTT = summarise(x.c.km), summarise(x.c.rtt), summarise(x.c.edge)
			out.Stats = append(out.Stats, st)
		}
	}
	out.Elapsed = time.Since(start)
	return out
}
