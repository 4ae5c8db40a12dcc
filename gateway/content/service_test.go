package content_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

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
			if got := agents.ShardCount(); got != m.K+m.M {
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
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0 })
	body := payload(50000)
	pub, err := s.Publish(ctx, "feed.json", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	m := pub.Manifest
	// Lose m holders of data shards.
	for i := 0; i < m.M; i++ {
		agents.Get(m.Shards[i].Nodes[0]).SetDown(true)
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
	agents.Get(m.Shards[m.M].Nodes[0]).SetDown(true)
	_, err = s.Read(ctx, m, 0, m.Size)
	var sue *content.ShardsUnavailableError
	if !errors.As(err, &sue) || !errors.Is(err, content.ErrShardsUnavailable) || !strings.Contains(err.Error(), "agent down") {
		t.Fatalf("read with m+1 down = %v, want content.ShardsUnavailableError naming the cause", err)
	}
	for _, a := range agents.All() {
		a.SetDown(false)
	}
	// A corrupt shard is excluded by its hash, in whole and range reads.
	agents.Get(m.Shards[1].Nodes[0]).Corrupt()
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
		setup func(l *contenttest.Ledger, a *contenttest.Agents)
		body  func() (int64, []byte)
		want  error
	}{
		{"agent fails mid-upload", 6, func(_ *contenttest.Ledger, a *contenttest.Agents) { a.Get("n3").SetFailPuts(true) },
			func() (int64, []byte) { return 30000, payload(30000) }, content.ErrUpload},
		{"ledger refuses", 6, func(l *contenttest.Ledger, _ *contenttest.Agents) {
			l.FailRecords(records.Errorf(records.CodeInvalid, "nope"))
		}, func() (int64, []byte) { return 100, payload(100) }, content.ErrInvalid},
		{"ledger unreachable", 6, func(l *contenttest.Ledger, _ *contenttest.Agents) {
			l.FailRecords(fmt.Errorf("%w: down", ledger.ErrUnavailable))
		}, func() (int64, []byte) { return 100, payload(100) }, content.ErrLedger},
		{"ledger conflict on every retry", 6, func(l *contenttest.Ledger, _ *contenttest.Agents) {
			for range 5 {
				l.FailRecords(fmt.Errorf("%w: mvcc", ledger.ErrConflict))
			}
		}, func() (int64, []byte) { return 100, payload(100) }, content.ErrConflict},
		{"ledger refuses for a record's state", 6, func(l *contenttest.Ledger, _ *contenttest.Agents) {
			l.FailRecords(records.Errorf(records.CodeFailedPrecondition, "node n1 is inactive"))
		}, func() (int64, []byte) { return 100, payload(100) }, content.ErrConflict},
		{"body shorter than Content-Length", 6, nil, func() (int64, []byte) { return 5000, payload(4000) }, content.ErrInvalid},
		{"body longer than Content-Length", 6, nil, func() (int64, []byte) { return 100, payload(4000) }, content.ErrInvalid},
		{"too few nodes", 2, nil, func() (int64, []byte) { return 100, payload(100) }, content.ErrNoPlacement},
		{"too large", 6, nil, func() (int64, []byte) { return 1 << 40, nil }, content.ErrTooLarge},
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
			if n := a.ShardCount(); n != 0 {
				t.Fatalf("%d shards left behind", n)
			}
			if n := l.ManifestCount(); n != 0 {
				t.Fatalf("%d manifests recorded", n)
			}
			// The cleanup names the object and the shard; a version only
			// once one was tried.
			for _, ag := range a.All() {
				for _, ref := range ag.Deletes() {
					if ref.Name != "x/y.css" || ref.Index < 0 || ref.Index >= 6 || (ref.Version != "" && ref.Version != "1") {
						t.Fatalf("cleanup reference %+v", ref)
					}
				}
			}
		})
	}
}

func TestPublishVersionsAndConflicts(t *testing.T) {
	ctx := context.Background()
	s, l, agents := newTestService(t, 6, nil)
	for i := 1; i <= 2; i++ {
		pub, err := s.Publish(ctx, "a.css", "text/css", 3, strings.NewReader("abc"))
		if err != nil || pub.Manifest.Version != fmt.Sprint(i) {
			t.Fatalf("publish %d: %v %v", i, pub, err)
		}
	}
	// A concurrent gateway took the next version: retry with the one after.
	l.FailRecords(records.Errorf(records.CodeConflict, "taken"), fmt.Errorf("%w: mvcc", ledger.ErrConflict))
	pub, err := s.Publish(ctx, "a.css", "text/css", 3, strings.NewReader("xyz"))
	if err != nil || pub.Manifest.Version != "3" {
		t.Fatalf("publish after conflicts: %v %v", pub, err)
	}
	// Another organisation's name is refused before any upload.
	org2, err := content.New(testConfig(nil), l.AsMSP("Org2MSP"), agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	publishWith(t, org2, "b.css", []byte("org2"))
	if _, err := s.Publish(ctx, "b.css", "", 3, strings.NewReader("abc")); !errors.Is(err, content.ErrForbidden) {
		t.Fatalf("publish of a foreign name = %v", err)
	}
	if _, err := s.Publish(ctx, "../x", "", 3, strings.NewReader("abc")); !errors.Is(err, content.ErrInvalid) {
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
	for _, a := range agents.All() {
		a.SetDown(true)
	}
	if _, err := s.Read(ctx, m, 0, 5000); err != nil {
		t.Fatalf("cached read: %v", err)
	}
	for _, a := range agents.All() {
		a.SetDown(false)
	}
	out, err := s.Purge(ctx, "p.js", "", "withdrawn")
	if err != nil || out.ShardsDeleted != m.K+m.M || agents.ShardCount() != 0 {
		t.Fatalf("purge: %+v %v (left %d)", out, err, agents.ShardCount())
	}
	// Each delete names the manifest shard, so the agent can check it
	// against the ledger.
	for _, a := range agents.All() {
		for _, ref := range a.Deletes() {
			if ref.Name != "p.js" || ref.Version != "1" || ref.Index < 0 || ref.Index >= len(m.Shards) || m.Shards[ref.Index].Hash != ref.Hash {
				t.Fatalf("delete reference %+v", ref)
			}
		}
	}
	if _, err := s.Manifest(ctx, "p.js", "1"); !errors.Is(err, content.ErrPurged) {
		t.Fatalf("manifest of purged version = %v", err)
	}
	if _, err := s.Manifest(ctx, "p.js", ""); !errors.Is(err, content.ErrNotFound) {
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
	a.Get("n3").SetRefuseUploads(true)
	a.Get("n5").SetRefuseUploads(true)
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
	a2.Get("n1").SetRefuseUploads(true)
	_, err = s2.Publish(ctx, "site/app.js", "", int64(len(body)), bytes.NewReader(body))
	if !errors.Is(err, content.ErrNoPlacement) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("publish with one of three nodes refusing = %v, want content.ErrNoPlacement naming the refusal", err)
	}
}

// TestLedgerRefusals: the chaincode's refusals reach callers as the
// service's errors, a refusal for a record's state as ErrConflict.
func TestLedgerRefusals(t *testing.T) {
	ctx := context.Background()
	s, l, agents := newTestService(t, 6, nil)
	m := publishWith(t, s, "refuse/a.js", payload(3000))
	publishWith(t, s, "refuse/a.js", payload(3001))
	org2, err := content.New(testConfig(nil), l.AsMSP("Org2MSP"), agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(ctx, m.Name, "1", "withdrawn"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"purge an already purged version", func() error { _, err := s.Purge(ctx, m.Name, "1", "again"); return err }, content.ErrConflict},
		{"purge another organisation's version", func() error { _, err := org2.Purge(ctx, m.Name, "2", "not mine"); return err }, content.ErrForbidden},
		{"purge an unknown version", func() error { _, err := s.Purge(ctx, m.Name, "9", "none"); return err }, content.ErrNotFound},
		{"purge with an empty reason", func() error { _, err := s.Purge(ctx, m.Name, "2", ""); return err }, content.ErrInvalid},
		{"repair a purged version", func() error {
			_, err := l.UpdateShardHolders(ctx, m.Name, "1", 0, m.Shards[0].Nodes, []string{"n5"})
			if !errors.Is(err, records.ErrFailedPrecondition) {
				return fmt.Errorf("ledger answered %v", err)
			}
			_, err = s.RepairShard(ctx, m.Name, "1", 0, m.Shards[0].Nodes)
			return err
		}, nil},
		{"versions of an unknown object", func() error { _, err := s.Versions(ctx, "refuse/none.js"); return err }, content.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestMissingCopyIsRepaired: a holder that lost its copy (the agent
// answers not found) is skipped by the read and reported for repair.
func TestMissingCopyIsRepaired(t *testing.T) {
	q := make(chan content.RepairRequest, 8)
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0 }, content.WithRepairQueue(q))
	body := payload(9000)
	m := publishWith(t, s, "lost/copy.js", body)
	agents.Get(m.Shards[0].Nodes[0]).Drop(m.Shards[0].Hash)
	readBack(t, s, m, body)
	select {
	case r := <-q:
		if r.Shard != 0 || r.Node != m.Shards[0].Nodes[0] || r.Name != m.Name {
			t.Fatalf("repair request %+v", r)
		}
	default:
		t.Fatal("the missing copy was not reported for repair")
	}
}
