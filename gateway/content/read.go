package content

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/codec"
)

// holder is one node holding one shard, with its routing cost.
type holder struct {
	node   string
	health Health
	cost   time.Duration
}

// unknownCost ranks a node without any latency figure behind every
// measured healthy node.
const unknownCost = time.Second

// rankHolders orders a shard's holders: alive before unknown before suspect
// before failed, then by estimated RTT (the mesh's Vivaldi estimate, else
// the node's smoothed fetch latency).
func (s *Service) rankHolders(ids []string) []holder {
	out := make([]holder, 0, len(ids))
	for _, id := range ids {
		h := holder{node: id, health: HealthUnknown, cost: unknownCost}
		hasRTT := false
		if s.topo != nil {
			h.health, h.cost, hasRTT = s.topo.Node(id)
		}
		// Observed latency counts when it is worse than the estimate: the
		// mesh measures the network, not a slow disk or a busy agent.
		if d, ok := s.track.ewma(id); ok && (!hasRTT || d > h.cost) {
			h.cost = d
		} else if !hasRTT {
			h.cost = unknownCost
		}
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b holder) int {
		return cmp.Or(cmp.Compare(a.health.rank(), b.health.rank()), cmp.Compare(a.cost, b.cost))
	})
	return out
}

// attempt is one shard request in flight.
type attempt struct {
	shard  int
	node   string
	start  time.Time
	hedged bool // a hedge was already launched for it
	cancel context.CancelFunc
}

type fetchResult struct {
	a    *attempt
	data []byte
	err  error
}

// fetch gets k shards' byte range [off, off+n). Shards are ranked by their
// best holder (healthy and near first, data shards before parity among
// equals); the k best are requested at once. A request that fails is
// replaced at once by the shard's next holder, or the next shard; one that
// has not answered within the hedge delay (the p95 of recent fetches) gets
// a hedge the same way. The first k shards win and the rest are cancelled.
// With whole, every shard is checked against its hash and excluded on
// mismatch (and reported for repair).
func (s *Service) fetch(ctx context.Context, m *records.Manifest, l codec.Layout, off, n int64, whole bool) ([][]byte, error) {
	total := l.K + l.M
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.track.read(l.K)

	// Per shard, its holders best first; shards ordered by their best.
	holders := make([][]holder, total)
	order := make([]int, total)
	for i := range total {
		holders[i] = s.rankHolders(m.Shards[i].Nodes)
		order[i] = i
	}
	best := func(i int) holder {
		if len(holders[i]) == 0 {
			return holder{health: HealthFailed, cost: unknownCost}
		}
		return holders[i][0]
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ha, hb := best(a), best(b)
		return cmp.Or(cmp.Compare(ha.health.rank(), hb.health.rank()), cmp.Compare(ha.cost, hb.cost), cmp.Compare(a, b))
	})

	results := make(chan fetchResult, 4*total)
	tried := make([]int, total) // holders tried per shard
	launched := make([]bool, total)
	done := make([]bool, total)
	nextShard := 0
	inflight := map[*attempt]bool{}
	var causes []string

	// launch asks shard's next holder; a failed holder only when
	// allowFailed.
	launch := func(shard int, hedge, allowFailed bool) bool {
		if done[shard] || tried[shard] >= len(holders[shard]) {
			return false
		}
		h := holders[shard][tried[shard]]
		if h.health == HealthFailed && (!allowFailed || hedge && s.track.failedRecently(h.node)) {
			// A hedge to a node both the mesh and this gateway's own
			// requests found dead would only fail too.
			return false
		}
		tried[shard]++
		launched[shard] = true
		actx, acancel := context.WithCancel(ctx)
		a := &attempt{shard: shard, node: h.node, start: time.Now(), cancel: acancel}
		inflight[a] = true
		s.track.attempt(h.node, hedge)
		go func() {
			b, err := s.fetchFrom(actx, m.Shards[shard], h.node, off, n)
			if err != nil && actx.Err() != nil && !errors.Is(actx.Err(), context.DeadlineExceeded) {
				// Cancelled: another holder answered first.
				s.track.outpaced(h.node, time.Since(a.start))
			}
			results <- fetchResult{a: a, data: b, err: err}
		}()
		return true
	}
	// another launches one more request: the given shard's next holder if
	// any, else the next shard not yet requested.
	// Holders the mesh reports failed are asked only when no other holder
	// is left (the view may lag a restart; a dead node refuses at once).
	another := func(shard int, hedge bool) bool {
		for _, allowFailed := range []bool{false, true} {
			if shard >= 0 && launch(shard, hedge, allowFailed) {
				return true
			}
			for nextShard < total {
				i := order[nextShard]
				if !allowFailed && best(i).health == HealthFailed {
					break // the rest of the order is failed too
				}
				nextShard++
				if !launched[i] && launch(i, hedge, allowFailed) {
					return true
				}
			}
			// Holders of shards already requested but not yet tried.
			for _, i := range order {
				if !done[i] && launch(i, hedge, allowFailed) {
					return true
				}
			}
		}
		return false
	}
	for range l.K {
		another(-1, false)
	}
	out := make([][]byte, total)
	have := 0
	hedgeAfter := s.cfg.HedgeDefault
	if s.cfg.Hedge {
		hedgeAfter = s.track.hedgeDelay(s.cfg.HedgeMin, s.cfg.HedgeMax, s.cfg.HedgeDefault)
	}
	timer := time.NewTimer(hedgeAfter)
	defer timer.Stop()
	for have < l.K && len(inflight) > 0 {
		select {
		case r := <-results:
			delete(inflight, r.a)
			r.a.cancel()
			if r.err == nil && whole {
				want, _ := codec.ParseHash(m.Shards[r.a.shard].Hash)
				if !codec.VerifyShard(r.data, want) {
					r.err = fmt.Errorf("%w: content does not match its hash", ErrShardCorrupt)
				}
			}
			s.track.done(r.a.node, time.Since(r.a.start), r.err)
			if r.err != nil && done[r.a.shard] {
				continue // cancelled: another holder answered first
			}
			if r.err != nil {
				if errors.Is(r.err, ErrShardCorrupt) || errors.Is(r.err, ErrShardNotFound) {
					// The copy the ledger lists is rotten or gone.
					s.reportCorrupt(m, r.a.shard, r.a.node)
				}
				if ctx.Err() == nil {
					causes = append(causes, fmt.Sprintf("shard %d on %s: %v", r.a.shard, r.a.node, r.err))
					another(r.a.shard, false)
				}
				continue
			}
			if done[r.a.shard] {
				continue
			}
			done[r.a.shard] = true
			out[r.a.shard] = r.data
			have++
			// Requests of the same shard elsewhere are no longer needed.
			for a := range inflight {
				if a.shard == r.a.shard {
					a.cancel()
				}
			}
		case <-timer.C:
			if !s.cfg.Hedge {
				continue
			}
			now := time.Now()
			next := hedgeAfter
			for a := range inflight {
				age := now.Sub(a.start)
				if a.hedged || done[a.shard] {
					continue
				}
				if age >= hedgeAfter {
					a.hedged = true
					another(a.shard, true)
				} else {
					next = min(next, hedgeAfter-age)
				}
			}
			timer.Reset(max(next, time.Millisecond))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if have < l.K {
		return nil, &ShardsUnavailableError{Object: m.String(), Need: l.K, Have: have, Causes: causes}
	}
	return out, nil
}

// fetchFrom reads a shard's range from one holder.
func (s *Service) fetchFrom(ctx context.Context, sh records.Shard, id string, off, n int64) ([]byte, error) {
	node, err := s.nodeByID(ctx, id)
	if err != nil {
		return nil, err
	}
	a, err := s.agents.Agent(node)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AgentTimeout)
	defer cancel()
	b, err := a.GetShard(ctx, sh.Hash, off, n)
	if err == nil && int64(len(b)) != n {
		err = fmt.Errorf("got %d bytes, want %d", len(b), n)
	}
	return b, err
}

// FetchStats returns the gateway's shard-fetch counters.
func (s *Service) FetchStats() FetchStats {
	st := s.track.stats()
	st.HedgeAt = s.track.hedgeDelay(s.cfg.HedgeMin, s.cfg.HedgeMax, s.cfg.HedgeDefault)
	return st
}
