package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dct-network/dct/gateway/placement"
	"github.com/dct-network/dct/gateway/routing"
	"github.com/dct-network/dct/pkg/mesh"
)

// Recovery is how failures are detected and repaired: the mesh's timing
// (pkg/mesh, raised for a WAN: ProbeTimeout above the largest RTT), the
// gateway's repair settings, and what one shard repair costs.
type Recovery struct {
	Timing mesh.Timing
	// GossipFanout is how many members each gossip round reaches
	// (memberlist's GossipNodes default, 3).
	GossipFanout int
	// RepairInterval and DeadAfter are the gateway's --repair-interval and
	// --dead-after defaults.
	RepairInterval, DeadAfter time.Duration
	// LedgerCommit is a transaction's submit-to-commit time
	// (manifest:UpdateHolders after each repaired shard).
	LedgerCommit time.Duration
	// NodeBps is a node's bandwidth, for moving shards.
	NodeBps float64
	// Gateways is how many gateways repair (each its share of the objects,
	// one shard at a time, as content.Repairer does).
	Gateways int
}

// DefaultRecovery is the failure model's defaults (see README).
func DefaultRecovery() Recovery {
	t := mesh.DefaultTiming()
	t.ProbeTimeout = 500 * time.Millisecond // above the planet's largest RTT
	t.ProbeInterval = time.Second
	return Recovery{Timing: t, GossipFanout: 3, RepairInterval: 2 * time.Second, DeadAfter: 10 * time.Second,
		LedgerCommit: 2 * time.Second, NodeBps: 100e6, Gateways: 100}
}

// Validate checks the model.
func (r Recovery) Validate() error {
	if err := r.Timing.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if r.GossipFanout < 1 || r.RepairInterval <= 0 || r.DeadAfter <= 0 || r.LedgerCommit < 0 || !(r.NodeBps > 0) || r.Gateways < 1 {
		return fmt.Errorf("%w: recovery: fanout, intervals, bandwidth and gateways must be positive", ErrConfig)
	}
	return nil
}

// detectAfter draws how long the mesh takes to declare a silent member of
// n failed at every other member: the first probe of it (each member
// probes one peer per ProbeInterval, so about one probe of it per
// interval: exponential), that probe's round (ProbeInterval: direct probe,
// ProbeTimeout, indirect probes), the suspicion timeout
// (SuspicionMult × max(1, log10 n) × ProbeInterval, memberlist's
// formula, confirmed by enough peers), and the gossip of the verdict
// (log_fanout n rounds of GossipInterval).
func (r Recovery) detectAfter(n int, u float64) time.Duration {
	t := r.Timing
	first := time.Duration(-math.Log(1-u) * float64(t.ProbeInterval))
	scale := math.Max(1, math.Log10(math.Max(1, float64(n))))
	suspicion := time.Duration(float64(t.SuspicionMult) * scale * float64(t.ProbeInterval))
	gossip := time.Duration(math.Ceil(math.Log(math.Max(2, float64(n)))/math.Log(float64(r.GossipFanout)))) * t.GossipInterval
	return first + t.ProbeInterval + suspicion + gossip
}

// OutageBucket is one second of reads around a failure.
type OutageBucket struct {
	// At is the bucket's start relative to the failure.
	At time.Duration
	// Reads, Failed; P50, P99 the edge-to-data latency of the reads that
	// succeeded, ms.
	Reads, Failed int
	P50, P99      float64
}

// Outage is what a regional outage did.
type Outage struct {
	Region string
	// NodesLost of Nodes; ShardsLost the shard copies lost; ObjectsLost
	// those left with fewer than k shards (unrecoverable); Degraded those
	// that lost a copy but can be rebuilt.
	Nodes, NodesLost, ShardsLost, ObjectsLost, Degraded int
	// DetectP50, DetectMax: when the mesh declared the lost nodes failed.
	DetectP50, DetectMax time.Duration
	// RouteAround: from the outage until every 1-second bucket's p99
	// edge-to-data latency is back within 10% (+1 ms) of before.
	RouteAround time.Duration
	// Restore: until the last repairable shard had a new holder
	// (RestoreP50: half of them); Repairs: shard repairs done.
	Restore, RestoreP50 time.Duration
	Repairs             int
	// Timeline is the reads per second, before and after.
	Timeline []OutageBucket
}

// Outage takes every node of region (a tz area: "Europe") down at once,
// unreachable (requests to them hang), and follows reads through the
// nearest surviving of k gateways (users outside the region) second by
// second, then the repairs: each lost shard gets a new holder chosen by
// placement.Replace among the survivors.
func (w *World) Outage(region string, k int, rec Recovery, before, after time.Duration, rate float64) (*Outage, error) {
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	cfg := w.cfg
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x07a6e))
	down := make([]bool, len(w.nodes))
	detect := make([]time.Duration, len(w.nodes))
	out := &Outage{Region: region, Nodes: len(w.nodes)}
	var det []time.Duration
	for i, n := range w.nodes {
		if w.cities[n.city].Area == region {
			down[i] = true
			detect[i] = rec.detectAfter(len(w.nodes), rng.Float64())
			det = append(det, detect[i])
			out.NodesLost++
		}
	}
	if out.NodesLost == 0 {
		return nil, fmt.Errorf("%w: no node in region %q", ErrConfig, region)
	}
	slices.Sort(det)
	out.DetectP50, out.DetectMax = det[len(det)/2], det[len(det)-1]
	// Surviving gateways: the first k sites outside the region.
	k = min(k, len(w.order))
	var gws []*gateway
	for i := range k {
		if w.cities[w.order[i]].Area != region {
			gws = append(gws, &gateway{id: uint64(i), at: w.Site(i)})
		}
	}
	if len(gws) == 0 {
		return nil, fmt.Errorf("%w: every gateway is in region %q", ErrConfig, region)
	}
	var now time.Duration
	env := &readEnv{w: w, draw: rng.Float64,
		view: func(n int32) routing.Health {
			if down[n] && now >= detect[n] {
				return routing.HealthFailed
			}
			return routing.HealthAlive
		},
		state: func(n int32) nodeState {
			if down[n] && now >= 0 {
				return nodeSilent
			}
			return nodeUp
		}}
	holders := make([][]routing.Holder, cfg.K+cfg.M)
	step := time.Duration(float64(time.Second) / rate)
	nb := int((before + after) / time.Second)
	buckets := make([][]float32, nb)
	failed := make([]int, nb)
	for now = -before; now < after; now += step {
		c := w.drawCity(rng.Float64())
		if w.cities[c].Area == region {
			continue
		}
		user := Point{w.cities[c].Lat, w.cities[c].Lon}
		g := gws[0]
		for _, x := range gws[1:] {
			if user.To(x.at) < user.To(g.at) {
				g = x
			}
		}
		o := draw(w.zipfCDF, rng.Float64())
		b := int((now + before) / time.Second)
		res := env.read(g, o, holders)
		if !res.ok || res.latency >= agentTimeout {
			failed[b]++
			continue
		}
		buckets[b] = append(buckets[b], ms(res.latency))
	}
	var base float64
	for i := range nb {
		d := summarise(buckets[i])
		bk := OutageBucket{At: time.Duration(i)*time.Second - before, Reads: len(buckets[i]) + failed[i], Failed: failed[i], P50: d.P50, P99: d.P99}
		out.Timeline = append(out.Timeline, bk)
		if bk.At < 0 {
			base = max(base, d.P99)
		}
	}
	for _, bk := range out.Timeline {
		if bk.At >= 0 && (bk.P99 > base*1.1+1) {
			out.RouteAround = bk.At + time.Second
		}
	}
	// Repairs.
	var jobs []repairJob
	for o, shards := range w.holders {
		lost := 0
		for _, hs := range shards {
			alive := 0
			for _, n := range hs {
				if down[n] {
					out.ShardsLost++
				} else {
					alive++
				}
			}
			if alive == 0 {
				lost++
			}
		}
		if lost > cfg.M {
			out.ObjectsLost++
			continue
		}
		dirty := false
		for s, hs := range shards {
			for _, n := range hs {
				if down[n] {
					dirty = true
					jobs = append(jobs, repairJob{object: o, shard: s, node: n, queued: rec.queuedAt(detect[n])})
				}
			}
		}
		if dirty {
			out.Degraded++
		}
	}
	done, err := w.repair(rec, jobs, down, gws, rng)
	if err != nil {
		return nil, err
	}
	var ok []time.Duration
	for _, d := range done {
		if d >= 0 {
			ok = append(ok, d)
		}
	}
	out.Repairs = len(ok)
	if len(ok) > 0 {
		slices.Sort(ok)
		out.Restore, out.RestoreP50 = ok[len(ok)-1], ok[len(ok)/2]
	}
	return out, nil
}

// queuedAt is when a repair scan queues the shards of a node declared
// failed at t: the first scan at or after t records it, the first scan
// DeadAfter later repairs.
func (r Recovery) queuedAt(t time.Duration) time.Duration {
	first := time.Duration(math.Ceil(float64(t)/float64(r.RepairInterval))) * r.RepairInterval
	return first + time.Duration(math.Ceil(float64(r.DeadAfter)/float64(r.RepairInterval)))*r.RepairInterval
}

type repairJob struct {
	object, shard int
	node          int32
	queued        time.Duration
}

// repair runs the jobs (sorted by queue time) on the gateways, each
// object's repairs on its gateway (object mod gateways), one shard at a
// time: rebuild from k surviving shards (a read), move the k shards and
// the new copy at NodeBps, then the ledger update. The new holder is
// placement.Replace's choice among the nodes not down. It sorts jobs by
// queue time and returns each one's completion time (-1: not repairable,
// fewer than k shards left), and updates the placement.
func (w *World) repair(rec Recovery, jobs []repairJob, down []bool, gws []*gateway, rng *rand.Rand) ([]time.Duration, error) {
	cfg := w.cfg
	slices.SortStableFunc(jobs, func(a, b repairJob) int {
		if a.queued != b.queued {
			return int(a.queued - b.queued)
		}
		return a.object*64 + a.shard - b.object*64 - b.shard
	})
	free := make([]time.Duration, len(gws))
	env := &readEnv{w: w, draw: rng.Float64,
		view: func(n int32) routing.Health {
			if down[n] {
				return routing.HealthFailed
			}
			return routing.HealthAlive
		},
		state: func(n int32) nodeState {
			if down[n] {
				return nodeSilent
			}
			return nodeUp
		}}
	var cands []placement.Node
	for i, n := range w.nodes {
		if !down[i] {
			cands = append(cands, placement.Node{ID: n.id, Zone: n.zone, FreeBytes: n.free})
		}
	}
	candIdx := map[string]int{}
	for i, c := range cands {
		candIdx[c.ID] = i
	}
	holders := make([][]routing.Holder, cfg.K+cfg.M)
	move := time.Duration(float64(w.shardSize*8*int64(cfg.K+1)) / rec.NodeBps * float64(time.Second))
	done := make([]time.Duration, len(jobs))
	for ji, j := range jobs {
		g := j.object % len(gws)
		start := max(free[g], j.queued)
		res := env.read(gws[g], j.object, holders)
		if !res.ok || res.latency >= agentTimeout {
			done[ji] = -1 // fewer than k shards left: not repairable
			continue
		}
		p := make(placement.Placement, len(w.holders[j.object]))
		for s, hs := range w.holders[j.object] {
			for _, n := range hs {
				if n != j.node {
					p[s] = append(p[s], w.nodes[n].id)
				}
			}
		}
		req := placement.Request{K: cfg.K, M: cfg.M, R: max(1, len(w.holders[j.object][j.shard])), ShardSize: w.shardSize, Seed: objectName(j.object)}
		target, err := placement.Replace(req, p, j.shard, cands)
		if err != nil {
			return nil, fmt.Errorf("sim: repairing %s shard %d: %w", objectName(j.object), j.shard, err)
		}
		t := w.byID[target]
		cands[candIdx[target]].FreeBytes -= w.shardSize
		w.nodes[t].free -= w.shardSize
		hs := w.holders[j.object][j.shard]
		for i, n := range hs {
			if n == j.node {
				hs[i] = t
			}
		}
		end := start + res.latency + w.netRTT(gws[g].at, t) + move + rec.LedgerCommit
		free[g] = end
		done[ji] = end
	}
	return done, nil
}

// Churn is what nodes leaving (and as many joining) did over a period.
type Churn struct {
	// PerHour is the share of nodes leaving per hour; Hours simulated.
	PerHour float64
	Hours   float64
	// Left nodes, Repairs done; RestoreP50/P99/Max the time from a node
	// leaving to each of its shards having a new holder; MaxDegraded the
	// most shard copies missing at once; ObjectsLost those that lost more
	// than m shards before their repairs.
	Left, Repairs                      int
	RestoreP50, RestoreP99, RestoreMax time.Duration
	MaxDegraded, ObjectsLost           int
	// RepairTxPerSec is the ledger load of the repairs (one
	// manifest:UpdateHolders each).
	RepairTxPerSec float64
}

// Churn makes perHour of the nodes leave per hour (silently, a Poisson
// process) for hours, as many empty nodes joining, and repairs every lost
// shard; it reports the time to restore redundancy. It changes the world:
// build one for each churn rate.
func (w *World) Churn(perHour, hours float64, rec Recovery) (*Churn, error) {
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	if !(perHour > 0) || !(hours > 0) {
		return nil, fmt.Errorf("%w: churn rate and hours must be positive", ErrConfig)
	}
	rng := rand.New(rand.NewPCG(w.cfg.Seed, 0xc4a2))
	out := &Churn{PerHour: perHour, Hours: hours}
	down := make([]bool, len(w.nodes))
	var gws []*gateway
	for i := range min(rec.Gateways, len(w.order)) {
		gws = append(gws, &gateway{id: uint64(i), at: w.Site(i)})
	}
	mean := time.Duration(float64(time.Hour) / (perHour * float64(len(w.nodes))))
	end := time.Duration(hours * float64(time.Hour))
	var jobs []repairJob
	left := map[int32]time.Duration{}
	for t := time.Duration(-math.Log(1-rng.Float64()) * float64(mean)); t < end; t += time.Duration(-math.Log(1-rng.Float64()) * float64(mean)) {
		n := int32(rng.IntN(len(w.nodes)))
		if down[n] {
			continue
		}
		down[n] = true
		left[n] = t
		out.Left++
		// A new node joins in its place, at a city drawn by weight.
		c := w.drawCity(rng.Float64())
		nn := node{id: fmt.Sprintf("j%06d", len(w.nodes)), at: Point{w.cities[c].Lat, w.cities[c].Lon}.jitter(w.cfg.JitterKM, rng.Float64(), rng.Float64()),
			city: int32(c), free: w.cfg.NodeBytes, price: 10 + rng.Int64N(90), zone: w.nodes[n].zone}
		switch w.cfg.Zone {
		case ZoneCountry:
			nn.zone = w.cities[c].Country
		case ZoneArea:
			nn.zone = w.cities[c].Area
		default:
			nn.zone = fmt.Sprintf("c%d", c)
		}
		w.byID[nn.id] = int32(len(w.nodes))
		w.nodes = append(w.nodes, nn)
		down = append(down, false)
		queued := rec.queuedAt(t + rec.detectAfter(len(w.nodes), rng.Float64()))
		for o, shards := range w.holders {
			for s, hs := range shards {
				if slices.Contains(hs, n) {
					jobs = append(jobs, repairJob{object: o, shard: s, node: n, queued: queued})
				}
			}
		}
	}
	done, err := w.repair(rec, jobs, down, gws, rng)
	if err != nil {
		return nil, err
	}
	// Time to restore each shard; the copies missing at once; objects
	// that had more than m shards missing at some moment (lost).
	var restore []time.Duration
	var evs []ev
	perObject := map[int][]ev{}
	for i, j := range jobs {
		if done[i] < 0 {
			continue
		}
		restore = append(restore, done[i]-left[j.node])
		evs = append(evs, ev{left[j.node], 1}, ev{done[i], -1})
		perObject[j.object] = append(perObject[j.object], ev{left[j.node], 1}, ev{done[i], -1})
	}
	out.Repairs = len(restore)
	if len(restore) > 0 {
		slices.Sort(restore)
		out.RestoreP50, out.RestoreP99, out.RestoreMax = restore[len(restore)/2], restore[len(restore)*99/100], restore[len(restore)-1]
	}
	out.MaxDegraded = peak(evs)
	for _, e := range perObject {
		if peak(e) > w.cfg.M {
			out.ObjectsLost++
		}
	}
	out.RepairTxPerSec = float64(out.Repairs) / end.Seconds()
	return out, nil
}

// ev is a shard copy going missing (+1) or restored (-1).
type ev struct {
	at    time.Duration
	delta int
}

// peak is the largest running sum of deltas in time order (ends before
// starts at the same time).
func peak(evs []ev) int {
	slices.SortFunc(evs, func(a, b ev) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return a.delta - b.delta
	})
	cur, best := 0, 0
	for _, e := range evs {
		cur += e.delta
		best = max(best, cur)
	}
	return best
}
