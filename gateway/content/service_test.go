package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

func newTestService(t *testing.T, nodes int, mutate func(*Config)) (*Service, *fakeLedger, *fakeAgents) {
	t.Helper()
	l := newFakeLedger("Org1MSP", nodes)
	a := newFakeAgents(l, 1<<30)
	cfg := DefaultConfig()
	cfg.MasterKey = bytes.Repeat([]byte{7}, 32)
	cfg.ManifestTTL = 0
	cfg.ChunkSize = 1024
	cfg.MaxUnit = 4096
	cfg.SegmentBytes = 10000
	cfg.CacheMaxObject = 20000
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg, l, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, l, a
}

func payload(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

func TestPublishAndRead(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, 1, 600, 4096, 20000, 100003} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s, _, agents := newTestService(t, 6, nil)
			body := payload(size)
			pub, err := s.Publish(ctx, "site/a.js", "", int64(size), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			m := pub.Manifest
			if m.Version != "1" || m.ContentType != "text/javascript; charset=utf-8" || m.Size != int64(size) {
				t.Fatalf("manifest %+v", m)
			}
			per := map[string]int{}
			for _, sh := range m.Shards {
				for _, n := range sh.Nodes {
					per[n]++
				}
			}
			for n, c := range per {
				if c >= m.K {
					t.Fatalf("node %s holds %d shards of k=%d", n, c, m.K)
				}
			}
			if got := agents.shardCount(); got != m.K+m.M {
				t.Fatalf("agents store %d shards, want %d", got, m.K+m.M)
			}
			got, err := s.Read(ctx, m, 0, m.Size)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("Read whole: %v (equal=%v)", err, bytes.Equal(got, body))
			}
			var sb strings.Builder
			if err := s.Stream(ctx, m, &sb); err != nil || sb.String() != string(body) {
				t.Fatalf("Stream: %v", err)
			}
			if size > 10 {
				got, err := s.Read(ctx, m, int64(size/3), int64(size/3))
				if err != nil || !bytes.Equal(got, body[size/3:2*(size/3)]) {
					t.Fatalf("Read middle: %v", err)
				}
			}
		})
	}
}

func TestReadSurvivesLostAndCorruptShards(t *testing.T) {
	ctx := context.Background()
	s, _, agents := newTestService(t, 6, func(c *Config) { c.CacheBytes = 0 })
	body := payload(50000)
	pub, err := s.Publish(ctx, "feed.json", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	m := pub.Manifest
	// Lose m holders of data shards.
	for i := 0; i < m.M; i++ {
		agents.get(m.Shards[i].Nodes[0]).setDown(true)
	}
	got, err := s.Read(ctx, m, 0, m.Size)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read with %d agents down: %v", m.M, err)
	}
	got, err = s.Read(ctx, m, 1000, 30000)
	if err != nil || !bytes.Equal(got, body[1000:31000]) {
		t.Fatalf("range read with %d agents down: %v", m.M, err)
	}
	// One more down: too few shards, a clear error naming the cause.
	agents.get(m.Shards[m.M].Nodes[0]).setDown(true)
	_, err = s.Read(ctx, m, 0, m.Size)
	var sue *ShardsUnavailableError
	if !errors.As(err, &sue) || !errors.Is(err, ErrShardsUnavailable) || !strings.Contains(err.Error(), "agent down") {
		t.Fatalf("read with m+1 down = %v, want ShardsUnavailableError naming the cause", err)
	}
	for _, a := range agents.agents {
		a.setDown(false)
	}
	// A corrupt shard is excluded by its hash, in whole and range reads.
	agents.get(m.Shards[1].Nodes[0]).corrupt()
	got, err = s.Read(ctx, m, 0, m.Size)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read with a corrupt shard: %v", err)
	}
	got, err = s.Read(ctx, m, 20000, 100)
	if err != nil || !bytes.Equal(got, body[20000:20100]) {
		t.Fatalf("range read with a corrupt shard: %v", err)
	}
}

func TestPublishFailuresLeaveNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		nodes int
		setup func(l *fakeLedger, a *fakeAgents)
		body  func() (int64, []byte)
		want  error
	}{
		{"agent fails mid-upload", 6, func(_ *fakeLedger, a *fakeAgents) { a.get("n3").failPuts = true },
			func() (int64, []byte) { return 30000, payload(30000) }, ErrUpload},
		{"ledger refuses", 6, func(l *fakeLedger, _ *fakeAgents) {
			l.recordErr = []error{records.Errorf(records.CodeInvalid, "nope")}
		}, func() (int64, []byte) { return 100, payload(100) }, ErrInvalid},
		{"ledger unreachable", 6, func(l *fakeLedger, _ *fakeAgents) {
			l.recordErr = []error{fmt.Errorf("%w: down", ledger.ErrUnavailable)}
		}, func() (int64, []byte) { return 100, payload(100) }, ErrLedger},
		{"body shorter than Content-Length", 6, nil, func() (int64, []byte) { return 5000, payload(4000) }, ErrInvalid},
		{"body longer than Content-Length", 6, nil, func() (int64, []byte) { return 100, payload(4000) }, ErrInvalid},
		{"too few nodes", 2, nil, func() (int64, []byte) { return 100, payload(100) }, ErrNoPlacement},
		{"too large", 6, nil, func() (int64, []byte) { return 1 << 40, nil }, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, a := newTestService(t, tt.nodes, nil)
			if tt.setup != nil {
				tt.setup(l, a)
			}
			size, body := tt.body()
			_, err := s.Publish(ctx, "x/y.css", "", size, bytes.NewReader(body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Publish() = %v, want %v", err, tt.want)
			}
			if n := a.shardCount(); n != 0 {
				t.Fatalf("%d shards left behind", n)
			}
			if len(l.manifests) != 0 {
				t.Fatalf("manifest recorded: %v", l.manifests)
			}
		})
	}
}

func TestPublishVersionsAndConflicts(t *testing.T) {
	ctx := context.Background()
	s, l, _ := newTestService(t, 6, nil)
	for i := 1; i <= 2; i++ {
		pub, err := s.Publish(ctx, "a.css", "text/css", 3, strings.NewReader("abc"))
		if err != nil || pub.Manifest.Version != fmt.Sprint(i) {
			t.Fatalf("publish %d: %v %v", i, pub, err)
		}
	}
	// A concurrent gateway took the next version: retry with the one after.
	l.recordErr = []error{records.Errorf(records.CodeConflict, "taken"), fmt.Errorf("%w: mvcc", ledger.ErrConflict)}
	pub, err := s.Publish(ctx, "a.css", "text/css", 3, strings.NewReader("xyz"))
	if err != nil || pub.Manifest.Version != "3" {
		t.Fatalf("publish after conflicts: %v %v", pub, err)
	}
	// Another organisation's name is refused before any upload.
	l.objects["b.css"] = &records.Object{Name: "b.css", Owner: "Org2MSP", Versions: []string{"1"}, Latest: "1"}
	if _, err := s.Publish(ctx, "b.css", "", 3, strings.NewReader("abc")); !errors.Is(err, ErrForbidden) {
		t.Fatalf("publish of a foreign name = %v", err)
	}
	if _, err := s.Publish(ctx, "../x", "", 3, strings.NewReader("abc")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad name = %v", err)
	}
}

func TestPurgeAndCache(t *testing.T) {
	ctx := context.Background()
	s, _, agents := newTestService(t, 6, nil)
	pub, err := s.Publish(ctx, "p.js", "", 5000, bytes.NewReader(payload(5000)))
	if err != nil {
		t.Fatal(err)
	}
	m := pub.Manifest
	if _, err := s.Read(ctx, m, 0, 10); err != nil {
		t.Fatal(err)
	}
	if s.CachedBytes() != 5000 {
		t.Fatalf("cached %d bytes, want 5000", s.CachedBytes())
	}
	// Served from the cache with every agent down.
	for _, a := range agents.agents {
		a.setDown(true)
	}
	if _, err := s.Read(ctx, m, 0, 5000); err != nil {
		t.Fatalf("cached read: %v", err)
	}
	for _, a := range agents.agents {
		a.setDown(false)
	}
	out, err := s.Purge(ctx, "p.js", "", "withdrawn")
	if err != nil || out.ShardsDeleted != m.K+m.M || agents.shardCount() != 0 {
		t.Fatalf("purge: %+v %v (left %d)", out, err, agents.shardCount())
	}
	if _, err := s.Manifest(ctx, "p.js", "1"); !errors.Is(err, ErrPurged) {
		t.Fatalf("manifest of purged version = %v", err)
	}
	if _, err := s.Manifest(ctx, "p.js", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("latest after purging the only version = %v", err)
	}
	if s.CachedBytes() != 0 {
		t.Fatal("purged object still cached")
	}
}

// TestPublishPlacesAroundRefusingAgents: an agent that answers Free but
// refuses the upload itself is left out before the body is read.
func TestPublishPlacesAroundRefusingAgents(t *testing.T) {
	ctx := context.Background()
	s, _, a := newTestService(t, 7, nil)
	a.get("n3").refuseUploads = true
	a.get("n5").refuseUploads = true
	body := payload(9000)
	pub, err := s.Publish(ctx, "site/app.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range pub.Manifest.Shards {
		for _, id := range sh.Nodes {
			if id == "n3" || id == "n5" {
				t.Fatalf("shard %d placed on refusing node %s", sh.Index, id)
			}
		}
	}
	got, err := s.Read(ctx, pub.Manifest, 0, pub.Manifest.Size)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back: %v", err)
	}
	// Too few nodes left once the refusing ones are out: a clear error.
	s2, _, a2 := newTestService(t, 3, nil)
	a2.get("n1").refuseUploads = true
	_, err = s2.Publish(ctx, "site/app.js", "", int64(len(body)), bytes.NewReader(body))
	if !errors.Is(err, ErrNoPlacement) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("publish with one of three nodes refusing = %v, want ErrNoPlacement naming the refusal", err)
	}
}
