package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dct-network/dct/gateway/routing"
)

// Prediction is what the simulator expects of reads through one gateway
// in a small, explicit configuration.
type Prediction struct {
	// Shares is each node's share of the shard deliveries; Requests its
	// share of the shard requests (hedges and replacements included);
	// Launched the shard requests per read.
	Shares, Requests map[string]float64
	Launched         float64
	// P50, P95: the reads' edge-to-data latency.
	P50, P95 time.Duration
}

// Predict routes reads through one gateway whose network RTT to each node
// is rtt[node], over objects given as their holders (per object, per
// shard, node ids), the way World.Run does (routing.Plan, hedging,
// cfg.Latency's server time; cfg.EstimateError off means the gateway
// knows the RTTs exactly, unless est gives its estimates, as the real
// mesh's): warmup reads that fill the gateway's latency
// window (the hedge delay), then reads measured, round robin over the
// objects. It is the simulator's side of the check against real processes.
func Predict(cfg Config, rtt, est map[string]time.Duration, objects [][][]string, warmup, reads int) (*Prediction, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(objects) == 0 || reads < 1 || warmup < 0 {
		return nil, fmt.Errorf("%w: no objects or reads", ErrConfig)
	}
	w := &World{cfg: cfg, byID: map[string]int32{}}
	ids := make([]string, 0, len(rtt))
	for id := range rtt {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		w.byID[id] = int32(len(w.nodes))
		w.nodes = append(w.nodes, node{id: id})
	}
	for _, shards := range objects {
		if len(shards) != cfg.K+cfg.M {
			return nil, fmt.Errorf("%w: an object has %d shards, want k+m = %d", ErrConfig, len(shards), cfg.K+cfg.M)
		}
		var o [][]int32
		for _, hs := range shards {
			var s []int32
			for _, id := range hs {
				i, ok := w.byID[id]
				if !ok {
					return nil, fmt.Errorf("%w: holder %s has no RTT", ErrConfig, id)
				}
				s = append(s, i)
			}
			o = append(o, s)
		}
		w.holders = append(w.holders, o)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e7))
	env := &readEnv{w: w, draw: rng.Float64,
		view:  func(int32) routing.Health { return routing.HealthAlive },
		state: func(int32) nodeState { return nodeUp },
		rtt:   func(_ *gateway, n int32) time.Duration { return rtt[w.nodes[n].id] }}
	if est != nil {
		env.est = func(n int32) (time.Duration, bool) { d, ok := est[w.nodes[n].id]; return d, ok }
	}
	g := &gateway{}
	holders := make([][]routing.Holder, cfg.K+cfg.M)
	served := map[string]int{}
	asked := map[string]int{}
	var lat []time.Duration
	launched, total := 0, 0
	for r := range warmup + reads {
		res := env.read(g, r%len(objects), holders)
		if !res.ok {
			return nil, fmt.Errorf("sim: read %d failed", r)
		}
		if r < warmup {
			continue
		}
		launched += res.launched
		for _, n := range res.asked {
			asked[w.nodes[n].id]++
		}
		lat = append(lat, res.latency)
		for _, n := range res.from {
			served[w.nodes[n].id]++
			total++
		}
	}
	slices.Sort(lat)
	out := &Prediction{Shares: map[string]float64{}, Requests: map[string]float64{}, Launched: float64(launched) / float64(reads),
		P50: lat[len(lat)/2], P95: lat[len(lat)*95/100]}
	for id, n := range served {
		out.Shares[id] = float64(n) / float64(total)
	}
	for id, n := range asked {
		out.Requests[id] = float64(n) / float64(launched)
	}
	return out, nil
}

// TotalVariation is half the sum of the absolute differences of two
// distributions over the same keys: 0 when they agree, 1 when disjoint.
func TotalVariation(a, b map[string]float64) float64 {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	d := 0.0
	for k := range keys {
		x := a[k] - b[k]
		if x < 0 {
			x = -x
		}
		d += x
	}
	return d / 2
}
