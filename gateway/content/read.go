package content

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/routing"
	"github.com/dct-network/dct/pkg/codec"
)

// rankHolders orders a shard's holders by routing.Compare: alive before
// unknown before suspect before failed; then, among similarly near holders,
// the higher SLA score first; then by estimated RTT (the mesh's Vivaldi
// estimate, else the node's smoothed fetch latency). Similarly near: the
// same band of the cost, floor(cost / scoreBand) (10 ms by default), so a
// holder 3 ms farther but scored higher wins, one a band farther does not.
func (s *Service) rankHolders(ids []string) []routing.Holder {
	out := s.holders(ids)
	routing.Sort(out, s.scoreBand)
	return out
}

// holders are the routing figures of the nodes ids, unsorted.
func (s *Service) holders(ids []string) []routing.Holder {
	out := make([]routing.Holder, 0, len(ids))
	for _, id := range ids {
		h := routing.Holder{Node: id, Health: HealthUnknown, Cost: routing.UnknownCost, Score: s.scoreOf(id)}
		hasRTT := false
		if s.topo != nil {
			h.Health, h.Cost, hasRTT = s.topo.Node(id)
		}
		// Observed latency counts when it is worse than the estimate: the
		// mesh measures the network, not a slow disk or a busy agent.
		if d, ok := s.track.ewma(id); ok && (!hasRTT || d > h.Cost) {
			h.Cost = d
		} else if !hasRTT {
			h.Cost = routing.UnknownCost
		}
		out = append(out, h)
	}
	return out
}

// attempt is one shard request in flight.
type attempt struct {
	shard  int
	node   string
	start  time.Time
	hedged bool // a hedge was already launched for it
	hedge  bool // it is a hedge
	cancel context.CancelFunc
}

type fetchResult struct {
	a    *attempt
	data []byte
	buf  *[]byte // the pooled buffer lent for data, if any
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
//
// from names, per shard that arrived, the node that delivered it. The
// shards may live in pooled buffers: release gives them back once their
// bytes are no longer used (not calling it leaves them to the GC).
func (s *Service) fetch(ctx context.Context, m *records.Manifest, l codec.Layout, off, n int64, whole bool) (shards [][]byte, from []string, release func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.track.read(l.K)
	f := s.newShardFetch(ctx, m, l.K+l.M, off, n, whole)
	for range l.K {
		f.another(-1, false)
	}
	hedgeAfter := s.cfg.HedgeDefault
	if s.cfg.Hedge {
		hedgeAfter = s.track.hedgeDelay(s.cfg.HedgeMin, s.cfg.HedgeMax, s.cfg.HedgeDefault)
	}
	timer := time.NewTimer(hedgeAfter)
	defer timer.Stop()
	for f.have < l.K && len(f.inflight) > 0 {
		select {
		case r := <-f.results:
			f.collect(r)
		case <-timer.C:
			if s.cfg.Hedge {
				timer.Reset(f.hedge(hedgeAfter))
			}
		case <-ctx.Done():
			return nil, nil, nil, ctx.Err()
		}
	}
	if f.have < l.K {
		f.release()
		return nil, nil, nil, &ShardsUnavailableError{Object: m.String(), Need: l.K, Have: f.have, Causes: f.causes}
	}
	return f.out, f.from, f.release, nil
}

// shardPool holds the buffers shard ranges are read into (see
// ShardReaderInto). A buffer goes back only once its request has ended:
// the buffers of requests still running when a fetch returns are left to
// the GC.
var shardPool sync.Pool

// release gives back the buffers of the shards that arrived.
func (f *shardFetch) release() {
	for i, bp := range f.bufs {
		if bp != nil {
			shardPool.Put(bp)
			f.bufs[i] = nil
		}
	}
}

// shardFetch is the state of one fetch call: which holders of which shards
// were asked, the requests in flight and the shards that arrived. It is
// used by the fetch goroutine only; requests report on results.
type shardFetch struct {
	s      *Service
	ctx    context.Context // the fetch's; cancelled when it returns
	m      *records.Manifest
	off, n int64
	whole  bool

	plan     *routing.Plan // which holder to ask next
	inflight map[*attempt]bool
	results  chan fetchResult

	out    [][]byte  // the shards that arrived, by index
	bufs   []*[]byte // the pooled buffers of out, by index
	from   []string  // the node each shard in out came from
	have   int       // how many arrived
	causes []string  // why requests failed, for ShardsUnavailableError
}

// newShardFetch ranks the holders of m's total shards and orders the shards
// by their best holder (routing.NewPlan).
func (s *Service) newShardFetch(ctx context.Context, m *records.Manifest, total int, off, n int64, whole bool) *shardFetch {
	f := &shardFetch{
		s: s, ctx: ctx, m: m, off: off, n: n, whole: whole,
		inflight: map[*attempt]bool{},
		results:  make(chan fetchResult, 4*total),
		out:      make([][]byte, total),
		bufs:     make([]*[]byte, total),
		from:     make([]string, total),
	}
	holders := make([][]routing.Holder, total)
	for i := range total {
		holders[i] = s.holders(m.Shards[i].Nodes)
	}
	f.plan = routing.NewPlan(holders, s.scoreBand)
	return f
}

// another launches one more request, the one routing.Plan.Next picks: the
// given shard's next holder if any (shard < 0: none), else the next shard
// not yet requested, else another holder of a shard already requested;
// holders the mesh reports failed only when no other is left.
func (f *shardFetch) another(shard int, hedge bool) bool {
	pk, ok := f.plan.Next(shard, hedge, f.s.track.failedRecently)
	if !ok {
		return false
	}
	actx, acancel := context.WithCancel(f.ctx)
	a := &attempt{shard: pk.Shard, node: pk.Node, start: time.Now(), hedge: hedge, cancel: acancel}
	f.inflight[a] = true
	f.s.track.attempt(pk.Node, hedge)
	if hedge {
		f.s.metrics.HedgeLaunched()
	}
	go func() {
		b, bp, err := f.s.fetchFrom(actx, f.m.Shards[pk.Shard], pk.Node, f.off, f.n)
		if err != nil && actx.Err() != nil && !errors.Is(actx.Err(), context.DeadlineExceeded) {
			// Cancelled: another holder answered first.
			f.s.track.outpaced(pk.Node, time.Since(a.start))
		} else {
			d := time.Since(a.start)
			f.s.observeFetch(pk.Node, d, err)
			f.s.metrics.ShardFetch(pk.Node, d, err)
		}
		f.results <- fetchResult{a: a, data: b, buf: bp, err: err}
	}()
	return true
}

// collect takes one request's result: a shard that arrived first is kept
// and its other requests cancelled; a failure is replaced.
func (f *shardFetch) collect(r fetchResult) {
	a := r.a
	delete(f.inflight, a)
	a.cancel()
	if r.err == nil && f.whole {
		want, _ := codec.ParseHash(f.m.Shards[a.shard].Hash)
		if !codec.VerifyShard(r.data, want) {
			r.err = fmt.Errorf("%w: content does not match its hash", ErrShardCorrupt)
		}
	}
	f.s.track.done(a.node, time.Since(a.start), r.err)
	if r.buf != nil && (r.err != nil || f.plan.Done(a.shard)) {
		shardPool.Put(r.buf) // its request is over and its bytes unused
	}
	if f.plan.Done(a.shard) {
		return // another holder answered first (this one was cancelled)
	}
	if r.err != nil {
		f.replace(a, r.err)
		return
	}
	f.plan.Arrived(a.shard)
	if a.hedge {
		f.s.metrics.HedgeWon()
	}
	f.out[a.shard] = r.data
	f.bufs[a.shard] = r.buf
	f.from[a.shard] = a.node
	f.have++
	// Requests of the same shard elsewhere are no longer needed.
	for o := range f.inflight {
		if o.shard == a.shard {
			o.cancel()
		}
	}
}

// replace records why attempt a failed and, unless the fetch is over,
// launches another request in its place. A copy the ledger lists that is
// rotten or gone is reported for repair.
func (f *shardFetch) replace(a *attempt, err error) {
	if errors.Is(err, ErrShardCorrupt) || errors.Is(err, ErrShardNotFound) {
		f.s.reportCorrupt(f.m, a.shard, a.node)
		f.s.observeFailed(a.node)
	}
	if f.ctx.Err() != nil {
		return
	}
	f.causes = append(f.causes, fmt.Sprintf("shard %d on %s: %v", a.shard, a.node, err))
	f.another(a.shard, false)
}

// hedge launches one hedge for every request older than after that has
// none yet, and returns when the next one is due.
func (f *shardFetch) hedge(after time.Duration) time.Duration {
	now := time.Now()
	next := after
	for a := range f.inflight {
		age := now.Sub(a.start)
		if a.hedged || f.plan.Done(a.shard) {
			continue
		}
		if age >= after {
			a.hedged = true
			f.another(a.shard, true)
		} else {
			next = min(next, after-age)
		}
	}
	return max(next, time.Millisecond)
}

// fetchFrom reads a shard's range from one holder, into a pooled buffer
// (returned with the bytes) when the agent can (ShardReaderInto).
func (s *Service) fetchFrom(ctx context.Context, sh records.Shard, id string, off, n int64) ([]byte, *[]byte, error) {
	node, err := s.nodeByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.agents.Agent(node)
	if err != nil {
		return nil, nil, err
	}
	// The request stays within the shard size the manifest implies (its
	// layout was checked against it), so an agent's answer is bounded by
	// what was asked: the agent client refuses more than n bytes.
	if off < 0 || n <= 0 || off > sh.Size || n > sh.Size-off {
		return nil, nil, fmt.Errorf("%w: range %d+%d outside the %d bytes of shard %d", ErrInvalid, off, n, sh.Size, sh.Index)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AgentTimeout)
	defer cancel()
	var (
		b  []byte
		bp *[]byte
	)
	if into, ok := a.(ShardReaderInto); ok {
		bp = getPooled(&shardPool, n)
		b, err = into.GetShardInto(ctx, sh.Hash, off, n, *bp)
	} else {
		b, err = a.GetShard(ctx, sh.Hash, off, n)
	}
	if err == nil && int64(len(b)) != n {
		// A clean answer of another length: the copy is not what the
		// manifest says.
		err = fmt.Errorf("%w: got %d bytes, want %d", ErrShardCorrupt, len(b), n)
	}
	return b, bp, err
}

// FetchStats returns the gateway's shard-fetch counters.
func (s *Service) FetchStats() FetchStats {
	st := s.track.stats()
	st.HedgeAt = s.track.hedgeDelay(s.cfg.HedgeMin, s.cfg.HedgeMax, s.cfg.HedgeDefault)
	return st
}
