package sla

import (
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// latencyBounds are the upper bounds, in milliseconds, of the latency
// histogram's buckets; the last one takes everything above (reported as
// records.MaxSLALatencyMs).
var latencyBounds = [...]int64{1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200,
	250, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 20000, 60000, records.MaxSLALatencyMs}

// nodeObs are one node's counters of one epoch.
type nodeObs struct {
	sent, answered, failed, deliveries, bytes int64
	hist                                      [len(latencyBounds)]int64
}

// Aggregator accumulates observations per epoch and node. The zero value
// is not usable; call NewAggregator. Its methods are safe for concurrent
// use.
type Aggregator struct {
	mu      sync.Mutex
	now     func() time.Time
	length  int64 // epoch length in seconds
	epochs  map[int64]map[string]*nodeObs
	dropped int64
}

// AggregatorOption configures an Aggregator.
type AggregatorOption func(*Aggregator)

// WithClock reads the time from now (tests).
func WithClock(now func() time.Time) AggregatorOption { return func(a *Aggregator) { a.now = now } }

// WithEpochLength sets the epoch length (default records.DefaultEpochSeconds;
// it must be the ledger's, delivery:Epoch).
func WithEpochLength(d time.Duration) AggregatorOption {
	return func(a *Aggregator) {
		if s := int64(d / time.Second); s > 0 {
			a.length = s
		}
	}
}

// NewAggregator returns an empty Aggregator.
func NewAggregator(opts ...AggregatorOption) *Aggregator {
	a := &Aggregator{now: time.Now, length: records.DefaultEpochSeconds, epochs: map[int64]map[string]*nodeObs{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// EpochOf is the epoch of t.
func (a *Aggregator) EpochOf(t time.Time) int64 {
	s := t.Unix()
	e := s / a.length
	if s < 0 && s%a.length != 0 {
		e--
	}
	return e
}

// EpochEnd is the first instant after epoch e.
func (a *Aggregator) EpochEnd(e int64) time.Time { return time.Unix((e+1)*a.length, 0) }

// node returns the current epoch's counters of id, nil when id is not a
// node id or the epoch already holds MaxSLAObservations other nodes.
// Epochs the chaincode no longer takes are dropped. a.mu is held.
func (a *Aggregator) node(id string) *nodeObs {
	if records.ValidateNodeID(id) != nil {
		return nil
	}
	cur := a.EpochOf(a.now())
	for e := range a.epochs {
		if e < cur-records.SLAAttestEpochs {
			delete(a.epochs, e)
		}
	}
	m := a.epochs[cur]
	if m == nil {
		m = map[string]*nodeObs{}
		a.epochs[cur] = m
	}
	n := m[id]
	if n == nil {
		if len(m) >= records.MaxSLAObservations {
			a.dropped++
			return nil
		}
		n = &nodeObs{}
		m[id] = n
	}
	return n
}

func addCapped(p *int64, v int64) {
	*p = min(*p+min(v, records.MaxSLACount), records.MaxSLACount)
}

// Probe counts a probe of node: a request that needed an answer, and
// whether it got one.
func (a *Aggregator) Probe(node string, answered bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.node(node); n != nil {
		addCapped(&n.sent, 1)
		if answered {
			addCapped(&n.answered, 1)
		}
	}
}

// Latency counts a round trip to node.
func (a *Aggregator) Latency(node string, d time.Duration) {
	ms := max(int64(d/time.Millisecond), 0)
	i, _ := slices.BinarySearch(latencyBounds[:], ms)
	i = min(i, len(latencyBounds)-1)
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.node(node); n != nil {
		addCapped(&n.hist[i], 1)
	}
}

// Failed counts a shard of node that failed verification (or that it was
// listed for and did not have).
func (a *Aggregator) Failed(node string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.node(node); n != nil {
		addCapped(&n.failed, 1)
	}
}

// Delivered counts a verified delivery of bytes by node.
func (a *Aggregator) Delivered(node string, bytes int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.node(node); n != nil {
		addCapped(&n.deliveries, 1)
		addCapped(&n.bytes, max(bytes, 0))
	}
}

// Dropped is the number of observations dropped because an epoch already
// held MaxSLAObservations nodes.
func (a *Aggregator) Dropped() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}

// Epochs lists the epochs held, oldest first.
func (a *Aggregator) Epochs() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]int64, 0, len(a.epochs))
	for e := range a.epochs {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

// Attestation builds epoch's attestation from the nodes keep accepts (nil:
// all), sorted by node id; false when none is left.
func (a *Aggregator) Attestation(epoch int64, keep func(node string) bool) (records.SLAAttestationInput, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	in := records.SLAAttestationInput{Epoch: epoch}
	for id, n := range a.epochs[epoch] {
		if keep != nil && !keep(id) {
			continue
		}
		o := n.observation(id)
		if o.Validate() == nil {
			in.Observations = append(in.Observations, o)
		}
	}
	slices.SortFunc(in.Observations, func(x, y records.SLAObservation) int {
		switch {
		case x.Node < y.Node:
			return -1
		case x.Node > y.Node:
			return 1
		}
		return 0
	})
	return in, len(in.Observations) > 0
}

// Forget drops epoch (submitted, or given up).
func (a *Aggregator) Forget(epoch int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.epochs, epoch)
}

func (n *nodeObs) observation(id string) records.SLAObservation {
	o := records.SLAObservation{Node: id, ProbesSent: n.sent, ProbesAnswered: n.answered, ShardsFailed: n.failed,
		Deliveries: n.deliveries, DeliveredBytes: n.bytes}
	for _, c := range n.hist {
		o.LatencySamples += c
	}
	if o.LatencySamples > 0 {
		o.LatencyP50Ms = n.percentile(o.LatencySamples, 50)
		o.LatencyP95Ms = n.percentile(o.LatencySamples, 95)
	}
	return o
}

// percentile is the upper bound of the bucket holding the p-th percentile
// of total samples (nearest rank).
func (n *nodeObs) percentile(total, p int64) int64 {
	rank := max((total*p+99)/100, 1)
	var seen int64
	for i, c := range n.hist {
		seen += c
		if seen >= rank {
			return latencyBounds[i]
		}
	}
	return latencyBounds[len(latencyBounds)-1]
}
