package sla

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// fakeChain is a ledger whose sla:Score commits scores and emits the
// dct.sla event like a peer: every transaction is a block of its own,
// subscribers get the events after their checkpoint and then every one
// committed, until their context ends or Break.
type fakeChain struct {
	mu       sync.Mutex
	scores   map[string]*records.SLAScore
	events   []ledger.SLAEvent
	subs     map[chan ledger.SLAEvent]struct{}
	failSubs int
	reads    int
}

func newFakeChain() *fakeChain {
	return &fakeChain{scores: map[string]*records.SLAScore{}, subs: map[chan ledger.SLAEvent]struct{}{}}
}

func (f *fakeChain) SLAScores(context.Context) ([]*records.SLAScore, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	out := make([]*records.SLAScore, 0, len(f.scores))
	for _, s := range f.scores {
		c := *s
		out = append(out, &c)
	}
	return out, nil
}

// score commits an sla:Score of epoch that sets the scores given.
func (f *fakeChain) score(epoch int64, scores ...records.SLAScore) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := ledger.SLAEvent{SLAEpoch: records.SLAEpoch{Epoch: epoch, Nodes: []string{}, Skipped: []string{}}, Block: uint64(len(f.events) + 1)}
	ev.TxID = fmt.Sprintf("tx%d", ev.Block)
	for _, s := range scores {
		c := s
		f.scores[s.Node] = &c
		ev.Nodes = append(ev.Nodes, s.Node)
	}
	f.events = append(f.events, ev)
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			delete(f.subs, ch)
			close(ch)
		}
	}
}

func (f *fakeChain) SLAEvents(ctx context.Context, opts ...ledger.EventsOption) (<-chan ledger.SLAEvent, error) {
	var o ledger.EventsOptions
	o.Apply(opts...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSubs > 0 {
		f.failSubs--
		return nil, &ledger.CallError{Function: "chaincode events", Err: ledger.ErrUnavailable}
	}
	ch := make(chan ledger.SLAEvent, 1024)
	for _, ev := range f.events {
		if !o.After.IsZero() && ev.Block > o.After.Block {
			ch <- ev
		}
	}
	f.subs[ch] = struct{}{}
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}()
	return ch, nil
}

// breakStream ends every subscription and makes the next n fail.
func (f *fakeChain) breakStream(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
	f.failSubs = n
}

func (f *fakeChain) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// eventually polls cond until it holds or 5 s passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestTableFollowsEvents: with the periodic reread an hour apart, a
// committed sla:Score reaches the table through its event; a broken
// stream is resumed after the last event handled, so a score committed
// while it was down arrives too; an event that changed no score rereads
// nothing.
func TestTableFollowsEvents(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := newFakeChain()
	f.score(1, records.SLAScore{Node: "n1-orgb", Epoch: 1, Score: 8500, State: records.SLAStateOK})
	tb := NewTable()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); tb.Run(ctx, f, time.Hour, log) }()
	cfg := WatchConfig{MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, StableAfter: time.Second}
	go func() { defer wg.Done(); tb.Watch(ctx, f, f, cfg, log) }()
	defer func() { cancel(); wg.Wait() }()

	eventually(t, "the first subscription", func() bool { return tb.Live() && f.subscribers() == 1 })
	eventually(t, "the initial read", func() bool { s, ok := tb.Score("n1-orgb"); return ok && s.Score == 8500 })

	tests := []struct {
		name   string
		before func()
		scores []records.SLAScore
		want   records.SLAScore
	}{
		{name: "a score drops", scores: []records.SLAScore{{Node: "n1-orgb", Epoch: 2, Score: 7000, State: records.SLAStateWarning}},
			want: records.SLAScore{Node: "n1-orgb", Epoch: 2, Score: 7000, State: records.SLAStateWarning}},
		{name: "a new node", scores: []records.SLAScore{{Node: "n2-orgb", Epoch: 3, Score: 9000, State: records.SLAStateOK}},
			want: records.SLAScore{Node: "n2-orgb", Epoch: 3, Score: 9000, State: records.SLAStateOK}},
		{name: "after the stream broke twice", before: func() { f.breakStream(2) },
			scores: []records.SLAScore{{Node: "n1-orgb", Epoch: 4, Score: 2000, State: records.SLAStatePenalized}},
			want:   records.SLAScore{Node: "n1-orgb", Epoch: 4, Score: 2000, State: records.SLAStatePenalized}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			f.score(int64(2+i), tt.scores...)
			eventually(t, "the event's score", func() bool { s, ok := tb.Score(tt.want.Node); return ok && s == tt.want })
			if !tb.Penalized("n1-orgb") && tt.want.State == records.SLAStatePenalized {
				t.Fatal("not penalized")
			}
		})
	}
	eventually(t, "the stream back", func() bool { return tb.Live() && f.subscribers() == 1 })
	before := tb.Refreshes()
	f.score(9) // scored nothing
	f.score(10, records.SLAScore{Node: "n2-orgb", Epoch: 10, Score: 9100, State: records.SLAStateOK})
	eventually(t, "the last score", func() bool { s, _ := tb.Score("n2-orgb"); return s.Score == 9100 })
	if got := tb.Refreshes() - before; got != 1 {
		t.Fatalf("%d rereads for one event that changed scores and one that did not", got)
	}
}

// TestTablePollsWithoutEvents: Run rereads every interval while the events
// are not followed, and not while they are.
func TestTablePollsWithoutEvents(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := newFakeChain()
	tb := NewTable()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tb.live.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); tb.Run(ctx, f, time.Millisecond, log) }()
	eventually(t, "the first read", func() bool { return tb.Refreshes() == 1 })
	time.Sleep(50 * time.Millisecond) // 50 intervals: none may reread while live
	if got := tb.Refreshes(); got != 1 {
		t.Fatalf("%d rereads while the events are live", got)
	}
	tb.live.Store(false)
	eventually(t, "the fallback rereads", func() bool { return tb.Refreshes() >= 5 })
	cancel()
	<-done
}
