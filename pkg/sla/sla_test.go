package sla

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// start is 10 s into an epoch.
func newClock() *clock { return &clock{t: time.Unix(1000*records.DefaultEpochSeconds+10, 0)} }

func TestAggregatorObservation(t *testing.T) {
	c := newClock()
	a := NewAggregator(WithClock(c.now))
	for i := range 100 {
		a.Probe("n1-orgb", i%10 != 0) // 90 of 100 answered
		a.Latency("n1-orgb", time.Duration(i+1)*time.Millisecond)
	}
	a.Failed("n1-orgb")
	a.Delivered("n1-orgb", 4096)
	a.Delivered("n1-orgb", 4096)
	a.Probe("n2-orgb", true)
	a.Probe("Not A Node", true) // ignored
	in, ok := a.Attestation(1000, nil)
	if !ok || in.Epoch != 1000 || len(in.Observations) != 2 {
		t.Fatalf("%+v", in)
	}
	// Latencies 1..100 ms: p50 is 50 ms, p95 95 ms, reported as the upper
	// bounds of their buckets (50 and 100).
	want := records.SLAObservation{Node: "n1-orgb", ProbesSent: 100, ProbesAnswered: 90, LatencySamples: 100, LatencyP50Ms: 50, LatencyP95Ms: 100,
		ShardsFailed: 1, Deliveries: 2, DeliveredBytes: 8192}
	if in.Observations[0] != want {
		t.Fatalf("got %s\nwant %s", in.Observations[0], want)
	}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	in, _ = a.Attestation(1000, func(n string) bool { return n != "n1-orgb" })
	if len(in.Observations) != 1 || in.Observations[0].Node != "n2-orgb" {
		t.Fatalf("filtered %+v", in)
	}
	if _, ok := a.Attestation(999, nil); ok {
		t.Fatal("an epoch without observations has an attestation")
	}
}

// TestAggregatorBounded: at most MaxSLAObservations nodes an epoch and
// SLAAttestEpochs+1 epochs are kept, whatever is observed.
func TestAggregatorBounded(t *testing.T) {
	c := newClock()
	a := NewAggregator(WithClock(c.now))
	for e := range 5 {
		for i := range records.MaxSLAObservations + 50 {
			a.Probe(fmt.Sprintf("n%d-orgb", i), true)
		}
		if e < 4 {
			c.add(time.Duration(records.DefaultEpochSeconds) * time.Second)
		}
	}
	if got := a.Dropped(); got != 5*50 {
		t.Fatalf("dropped %d, want %d", got, 5*50)
	}
	eps := a.Epochs()
	if len(eps) != int(records.SLAAttestEpochs)+1 || eps[len(eps)-1] != 1004 {
		t.Fatalf("epochs %v", eps)
	}
	in, _ := a.Attestation(1004, nil)
	if len(in.Observations) != records.MaxSLAObservations || in.Validate() != nil {
		t.Fatalf("%d observations: %v", len(in.Observations), in.Validate())
	}
	// Counters saturate instead of overflowing.
	n := &nodeObs{sent: records.MaxSLACount}
	addCapped(&n.sent, 5)
	if n.sent != records.MaxSLACount {
		t.Fatal(n.sent)
	}
}

type fakeLedger struct {
	attests []records.SLAAttestationInput
	scores  []int64
	err     error // returned by the next Attest
	scored  map[int64]bool
}

func (f *fakeLedger) Attest(_ context.Context, in records.SLAAttestationInput) (*records.SLAAttestation, error) {
	if err := f.err; err != nil {
		f.err = nil
		return nil, err
	}
	f.attests = append(f.attests, in)
	return &records.SLAAttestation{Epoch: in.Epoch, TxID: "tx"}, nil
}

func (f *fakeLedger) ScoreEpoch(_ context.Context, e int64) (*records.SLAEpoch, error) {
	f.scores = append(f.scores, e)
	f.scored[e] = true
	return &records.SLAEpoch{Epoch: e}, nil
}

func (f *fakeLedger) SLAEpoch(_ context.Context, e int64) (*records.SLAEpoch, error) {
	if f.scored[e] {
		return &records.SLAEpoch{Epoch: e}, nil
	}
	return nil, records.Errorf(records.CodeNotFound, "not scored")
}

func TestSubmitter(t *testing.T) {
	c := newClock()
	a := NewAggregator(WithClock(c.now))
	l := &fakeLedger{scored: map[int64]bool{}}
	s := &Submitter{Agg: a, Ledger: l, Grace: 5 * time.Second, ScoreWait: time.Minute, Now: c.now,
		Keep: func(n string) bool { return n != "n1-orga" }}
	ctx := context.Background()
	epoch := time.Duration(records.DefaultEpochSeconds) * time.Second
	a.Probe("n1-orgb", true)
	a.Probe("n1-orga", true) // own org: not attested
	s.Tick(ctx)
	if len(l.attests) != 0 {
		t.Fatal("attested an epoch that has not ended")
	}
	c.add(epoch - 10*time.Second + 2*time.Second) // 2 s into epoch 1001: within the grace
	s.Tick(ctx)
	if len(l.attests) != 0 {
		t.Fatal("attested within the grace")
	}
	// The ledger is down: retried on the next tick.
	c.add(4 * time.Second)
	l.err = fmt.Errorf("%w: peer down", ledger.ErrUnavailable)
	s.Tick(ctx)
	if len(l.attests) != 0 || len(a.Epochs()) != 1 {
		t.Fatalf("attests %v, epochs %v", l.attests, a.Epochs())
	}
	s.Tick(ctx)
	if len(l.attests) != 1 || l.attests[0].Epoch != 1000 || len(l.attests[0].Observations) != 1 || l.attests[0].Observations[0].Node != "n1-orgb" {
		t.Fatalf("attests %+v", l.attests)
	}
	s.Tick(ctx)
	if len(l.attests) != 1 {
		t.Fatal("attested twice")
	}
	// A refused attestation is not retried.
	a.Probe("n1-orgb", false)
	c.add(epoch)
	l.err = records.Errorf(records.CodeConflict, "already attested")
	s.Tick(ctx)
	s.Tick(ctx)
	if len(l.attests) != 1 || len(a.Epochs()) != 0 {
		t.Fatalf("attests %d, epochs %v", len(l.attests), a.Epochs())
	}
	// Epoch 1002 now: each epoch up to 1000 was scored once, when the
	// current epoch was two later.
	if fmt.Sprint(l.scores) != "[998 999 1000]" {
		t.Fatalf("scored %v", l.scores)
	}
	c.add(epoch)
	s.Tick(ctx)
	s.Tick(ctx)
	if fmt.Sprint(l.scores) != "[998 999 1000 1001]" {
		t.Fatalf("scored %v", l.scores)
	}
}

type scoreSource []*records.SLAScore

func (s scoreSource) SLAScores(context.Context) ([]*records.SLAScore, error) { return s, nil }

func TestTable(t *testing.T) {
	tb := NewTable()
	err := tb.Refresh(context.Background(), scoreSource{
		{Node: "n1-orga", Epoch: 3, Score: 9000, State: records.SLAStateOK},
		{Node: "n2-orga", Epoch: 3, Score: 2000, State: records.SLAStatePenalized},
		{Node: "bad", Epoch: 3, Score: 20000, State: records.SLAStateOK},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := tb.Score("n1-orga"); !ok || s.Score != 9000 {
		t.Fatalf("%v %v", s, ok)
	}
	if !tb.Penalized("n2-orga") || tb.Penalized("n1-orga") || tb.Penalized("n3-orga") || tb.Len() != 2 {
		t.Fatal("penalized")
	}
}
