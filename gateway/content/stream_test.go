package content_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

// inFlight tracks the shard requests of every agent in flight whose
// context is live (a request the gateway cancelled no longer counts), by
// shard offset (one offset per segment of a streamed read).
type inFlight struct {
	mu          sync.Mutex
	live        map[*liveReq]bool
	maxSegments int
}

type liveReq struct {
	ctx context.Context
	off int64
}

// hook makes every agent of a count its requests and hold each for up to
// jitter (random, so that segments finish out of order).
func (f *inFlight) hook(a *contenttest.Agents, jitter time.Duration, seed int64) {
	f.live = map[*liveReq]bool{}
	rng := rand.New(rand.NewSource(seed))
	var rngMu sync.Mutex
	for _, ag := range a.All() {
		ag.SetOnGet(func(ctx context.Context, off, _ int64) error {
			r := &liveReq{ctx: ctx, off: off}
			f.mu.Lock()
			f.live[r] = true
			segs := map[int64]bool{}
			for o := range f.live {
				if o.ctx.Err() == nil {
					segs[o.off] = true
				}
			}
			f.maxSegments = max(f.maxSegments, len(segs))
			f.mu.Unlock()
			defer func() {
				f.mu.Lock()
				delete(f.live, r)
				f.mu.Unlock()
			}()
			rngMu.Lock()
			d := time.Duration(rng.Int63n(int64(jitter) + 1))
			rngMu.Unlock()
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", content.ErrAgentUnavailable, ctx.Err())
			}
		})
	}
}

// TestStreamPipelineOrderAndBound reads large objects whole and in ranges
// with several stream depths while agents answer in random order: the
// bytes come out in order, and no more than StreamDepth segments are
// fetched at once (the memory bound), at least two when the depth allows.
func TestStreamPipelineOrderAndBound(t *testing.T) {
	tests := []struct {
		name  string
		depth int
	}{
		{"one after another", 1},
		{"depth 2", 2},
		{"depth 3", 3},
		{"deeper than the object", 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// SegmentBytes 10000: 200003 bytes are ~21 segments.
			s, _, a := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0; c.StreamDepth = tc.depth })
			body := payload(200003)
			m := publishWith(t, s, "big/pipeline.bin", body)
			var f inFlight
			f.hook(a, 2*time.Millisecond, int64(tc.depth))
			for _, r := range [][2]int64{{0, int64(len(body))}, {12345, 150000}, {199000, 1003}} {
				got, err := s.Read(context.Background(), m, r[0], r[1])
				if err != nil || !bytes.Equal(got, body[r[0]:r[0]+r[1]]) {
					t.Fatalf("read [%d+%d]: %v (equal %v)", r[0], r[1], err, bytes.Equal(got, body[r[0]:r[0]+r[1]]))
				}
			}
			if f.maxSegments > tc.depth {
				t.Fatalf("%d segments fetched at once, depth %d", f.maxSegments, tc.depth)
			}
			if tc.depth > 1 && f.maxSegments < 2 {
				t.Fatalf("segments fetched one at a time with depth %d", tc.depth)
			}
		})
	}
}

var errClientGone = errors.New("client went away")

// TestStreamStopsWhenClientGoes: when the client's write fails or its
// context ends mid-stream, the read returns with that error while later
// segments are being fetched; their requests (which only cancellation
// can end here) all end, and none starts live afterwards.
func TestStreamStopsWhenClientGoes(t *testing.T) {
	tests := []struct {
		name     string
		first    bool // the first segment's requests are answered
		failW    bool // the first write fails
		cancelW  bool // the first write cancels the context
		cancelIn time.Duration
	}{
		{"first write fails", true, true, false, 0},
		{"context cancelled by the first write", true, false, true, 0},
		{"context cancelled before any byte", false, false, false, 20 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, a := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0; c.StreamDepth = 3 })
			body := payload(200003)
			m := publishWith(t, s, "big/cancel.bin", body)
			var (
				mu                 sync.Mutex
				running, liveAfter int
				returned           atomic.Bool
			)
			for _, ag := range a.All() {
				ag.SetOnGet(func(ctx context.Context, off, _ int64) error {
					if off == 0 && tc.first {
						return nil
					}
					mu.Lock()
					running++
					if returned.Load() && ctx.Err() == nil {
						liveAfter++
					}
					mu.Unlock()
					<-ctx.Done() // only cancellation ends it
					mu.Lock()
					running--
					mu.Unlock()
					return fmt.Errorf("%w: %w", content.ErrAgentUnavailable, ctx.Err())
				})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelIn > 0 {
				time.AfterFunc(tc.cancelIn, cancel)
			}
			var got bytes.Buffer
			err := s.WriteRange(ctx, m, 0, m.Size, writerFunc(func(p []byte) (int, error) {
				switch {
				case tc.failW:
					return 0, errClientGone
				case tc.cancelW:
					cancel()
				}
				return got.Write(p)
			}))
			returned.Store(true)
			want := context.Canceled
			if tc.failW {
				want = errClientGone
			}
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				mu.Lock()
				r, l := running, liveAfter
				mu.Unlock()
				if l != 0 {
					t.Fatalf("%d shard requests started uncancelled after the read returned", l)
				}
				if r == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d shard requests still running 5 s after the read returned", r)
				}
				time.Sleep(time.Millisecond)
			}
			if !bytes.Equal(got.Bytes(), body[:got.Len()]) {
				t.Fatal("bytes written before the end are not the object's prefix")
			}
			// The service is still usable (buffers and slot given back).
			for _, ag := range a.All() {
				ag.SetOnGet(nil)
			}
			readBack(t, s, m, body)
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStreamReplacesHolderFailingMidStream: agents that start failing
// after the first segments (dead, or serving rotten bytes) are replaced
// by other holders for the rest of the stream, and the object comes out
// whole and correct.
func TestStreamReplacesHolderFailingMidStream(t *testing.T) {
	tests := []struct {
		name string
		fail func(a *contenttest.Agent)
	}{
		{"agent dies", func(a *contenttest.Agent) { a.SetDown(true) }},
		{"agent refuses", func(a *contenttest.Agent) {
			a.SetOnGet(func(context.Context, int64, int64) error { return content.ErrAgentUnavailable })
		}},
		{"agent corrupts", func(a *contenttest.Agent) { a.Corrupt() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, a := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0; c.StreamDepth = 2 })
			body := payload(200003)
			m := publishWith(t, s, "big/failing.bin", body)
			// The first two agents asked for anything go bad after the
			// third write: mid-stream, with segments in flight.
			victims := a.All()[:2]
			var w bytes.Buffer
			writes := 0
			err := s.WriteRange(context.Background(), m, 0, m.Size, writerFunc(func(p []byte) (int, error) {
				if writes++; writes == 3 {
					for _, v := range victims {
						tc.fail(v)
					}
				}
				return w.Write(p)
			}))
			if err != nil || !bytes.Equal(w.Bytes(), body) {
				t.Fatalf("read with %d agents failing mid-stream: %v (equal %v)", len(victims), err, bytes.Equal(w.Bytes(), body))
			}
			if writes < 4 {
				t.Fatalf("only %d writes: the failure was not mid-stream", writes)
			}
		})
	}
}

// TestStreamDepthValidated: a stream depth below 1 is refused when the
// service is built (the gateway's --stream-depth).
func TestStreamDepthValidated(t *testing.T) {
	tests := []struct {
		depth   int
		wantErr bool
	}{{-1, true}, {0, true}, {1, false}, {4, false}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.depth), func(t *testing.T) {
			l := contenttest.NewLedger("Org1MSP", 6)
			_, err := content.New(testConfig(func(c *content.Config) { c.StreamDepth = tc.depth }), l, contenttest.NewAgents(l, 1<<30), nil)
			if tc.wantErr != (err != nil) || err != nil && !errors.Is(err, content.ErrInvalid) {
				t.Fatalf("depth %d: %v, want error %v (ErrInvalid)", tc.depth, err, tc.wantErr)
			}
		})
	}
}
