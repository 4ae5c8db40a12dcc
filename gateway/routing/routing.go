package routing

import (
	"cmp"
	"slices"
	"time"
)

// Health is what a gateway knows of an edge node's reachability.
type Health int

// Health values, best first.
const (
	HealthUnknown Health = iota
	HealthAlive
	HealthSuspect
	HealthFailed
)

func (h Health) String() string {
	if h < HealthUnknown || h > HealthFailed {
		return "invalid"
	}
	return [...]string{"unknown", "alive", "suspect", "failed"}[h]
}

// Rank orders health for routing: alive, then unknown, suspect, failed.
func (h Health) Rank() int { return [...]int{1, 0, 2, 3}[h] }

// UnknownCost ranks a node without any latency figure behind every
// measured healthy node.
const UnknownCost = time.Second

// Holder is one node holding one shard, with its routing cost and SLA
// score.
type Holder struct {
	Node   string
	Health Health
	Cost   time.Duration
	Score  int64
}

// Compare is the holders' order, best first: alive before unknown before
// suspect before failed; then, among similarly near holders, the higher
// SLA score first; then by cost. Similarly near: the same band of the
// cost, floor(cost / band), so a holder a little farther but scored higher
// wins, one a band farther does not. band must be positive.
func Compare(a, b Holder, band time.Duration) int {
	return cmp.Or(cmp.Compare(a.Health.Rank(), b.Health.Rank()), cmp.Compare(a.Cost/band, b.Cost/band),
		cmp.Compare(b.Score, a.Score), cmp.Compare(a.Cost, b.Cost))
}

// Sort orders hs by Compare, stably.
func Sort(hs []Holder, band time.Duration) {
	slices.SortStableFunc(hs, func(a, b Holder) int { return Compare(a, b, band) })
}

// Pick is one request a read launches: a holder of a shard.
type Pick struct {
	Shard int
	Node  string
	Hedge bool
}

// Plan is the holder-selection state of one read of k shards out of
// len(Holders): per shard its holders best first, the shards ordered by
// their best holder (data shards before parity among equals), which
// holders were tried and which shards arrived. It launches nothing: the
// caller sends the requests Next picks and reports arrivals (Arrived).
type Plan struct {
	Holders   [][]Holder // per shard, best first
	Order     []int      // shards, best holder first
	nextShard int        // position in Order of the next shard to request
	tried     []int      // holders tried per shard
	launched  []bool     // per shard: requested at least once
	done      []bool     // per shard: arrived
	band      time.Duration
}

// NewPlan ranks each shard's holders (holders[i] is sorted in place) and
// orders the shards by their best holder.
func NewPlan(holders [][]Holder, band time.Duration) *Plan {
	n := len(holders)
	p := &Plan{Holders: holders, Order: make([]int, n), tried: make([]int, n), launched: make([]bool, n), done: make([]bool, n), band: band}
	for i := range holders {
		Sort(holders[i], band)
		p.Order[i] = i
	}
	slices.SortStableFunc(p.Order, func(a, b int) int {
		return cmp.Or(Compare(p.Best(a), p.Best(b), band), cmp.Compare(a, b))
	})
	return p
}

// Best is shard i's best holder (a failed one when it has none).
func (p *Plan) Best(i int) Holder {
	if len(p.Holders[i]) == 0 {
		return Holder{Health: HealthFailed, Cost: UnknownCost}
	}
	return p.Holders[i][0]
}

// Done reports whether shard i arrived.
func (p *Plan) Done(i int) bool { return p.done[i] }

// Arrived records that shard i arrived: none of its holders is asked
// again.
func (p *Plan) Arrived(i int) { p.done[i] = true }

// launch picks shard's next holder; a failed holder only when allowFailed
// (and, for a hedge, only when failedRecently does not report it: a hedge
// to a node both the mesh and this gateway's own requests found dead would
// only fail too).
func (p *Plan) launch(shard int, hedge, allowFailed bool, failedRecently func(string) bool) (Pick, bool) {
	if p.done[shard] || p.tried[shard] >= len(p.Holders[shard]) {
		return Pick{}, false
	}
	h := p.Holders[shard][p.tried[shard]]
	if h.Health == HealthFailed && (!allowFailed || hedge && failedRecently != nil && failedRecently(h.Node)) {
		return Pick{}, false
	}
	p.tried[shard]++
	p.launched[shard] = true
	return Pick{Shard: shard, Node: h.Node, Hedge: hedge}, true
}

// Next picks one more request: the given shard's next holder if any
// (shard < 0: none), else the next shard not yet requested, else another
// holder of a shard already requested. Holders reported failed are asked
// only when no other holder is left (the view may lag a restart; a dead
// node refuses at once). A read starts with k calls Next(-1, false); a
// failed request is replaced by Next(its shard, false), a slow one hedged
// by Next(its shard, true).
func (p *Plan) Next(shard int, hedge bool, failedRecently func(string) bool) (Pick, bool) {
	for _, allowFailed := range []bool{false, true} {
		if shard >= 0 {
			if pk, ok := p.launch(shard, hedge, allowFailed, failedRecently); ok {
				return pk, true
			}
		}
		for p.nextShard < len(p.Order) {
			i := p.Order[p.nextShard]
			if !allowFailed && p.Best(i).Health == HealthFailed {
				break // the rest of the order is failed too
			}
			p.nextShard++
			if !p.launched[i] {
				if pk, ok := p.launch(i, hedge, allowFailed, failedRecently); ok {
					return pk, true
				}
			}
		}
		// Holders of shards already requested but not yet tried.
		for _, i := range p.Order {
			if !p.done[i] {
				if pk, ok := p.launch(i, hedge, allowFailed, failedRecently); ok {
					return pk, true
				}
			}
		}
	}
	return Pick{}, false
}

// HedgeWindow is how many recent fetch latencies the hedge delay is the
// p95 of; HedgeMinSamples how many it needs before the default gives way.
// HedgeEvery is how many new samples make the p95 be computed again
// (sorting the window on every read cost more than the hedging it steers).
const (
	HedgeWindow     = 512
	HedgeMinSamples = 20
	HedgeEvery      = 32
)

// HedgeDelay is the hedge delay of a window of recent fetch latencies,
// sorted ascending: its p95 within [lo, hi].
func HedgeDelay(sorted []time.Duration, lo, hi time.Duration) time.Duration {
	p := max(sorted[len(sorted)*95/100], 1)
	return min(max(p, lo), hi)
}
