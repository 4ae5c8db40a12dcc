package content_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
)

// publishTagged publishes body through s with surrogate keys.
func publishTagged(t *testing.T, s *content.Service, name string, body []byte, keys ...string) *records.Manifest {
	t.Helper()
	ctx := content.WithSurrogateKeys(context.Background(), keys)
	pub, err := s.Publish(ctx, name, "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pub.Manifest.Keys, keys) {
		t.Fatalf("manifest keys %v, want %v", pub.Manifest.Keys, keys)
	}
	return pub.Manifest
}

// warmOn reads name@version through s until both its manifest and content
// are cached (Warm).
func warmOn(t *testing.T, s *content.Service, name, version string, body []byte) {
	t.Helper()
	m, err := s.Manifest(context.Background(), name, version)
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, s, m, body)
	if _, _, ok := s.Warm(name + "@" + version); !ok {
		t.Fatalf("%s@%s is not cached after a read", name, version)
	}
}

// TestPurgeByKey: a hard purge by key through one gateway tombstones the
// tagged versions and the other gateway, following the ledger's events,
// stops serving their cached content; a soft purge marks the manifests
// stale on both, the next lookup revalidates against the ledger and keeps
// the cached content.
func TestPurgeByKey(t *testing.T) {
	pub, l, a := newTestService(t, 6, func(c *content.Config) { c.ManifestTTL = time.Hour })
	other := watching(t, l, a, time.Hour)
	bodies := map[string][]byte{"a": payload(3001), "b": payload(3002), "c": payload(3003)}
	publishTagged(t, pub, "a", bodies["a"], "release-42")
	publishTagged(t, pub, "b", bodies["b"], "release-42", "site")
	mc := publishTagged(t, pub, "c", bodies["c"], "site")
	for _, s := range []*content.Service{pub, other} {
		for name, body := range bodies {
			warmOn(t, s, name, "1", body)
		}
	}
	ctx := context.Background()

	out, err := pub.PurgeBy(ctx, records.PurgeRequest{Key: "release-42", Mode: records.PurgeHard, Reason: "recall"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Record.Targets, []string{"a@1", "b@1"}) || out.ShardsDeleted == 0 || len(out.DeleteErrors) != 0 {
		t.Fatalf("purge %+v", out)
	}
	for _, s := range []*content.Service{pub, other} {
		waitFor(t, "the hard purge", func() bool { return s.PurgeStats().Invalidations == 2 })
		for _, name := range []string{"a", "b"} {
			if _, _, ok := s.Warm(name + "@1"); ok {
				t.Errorf("%s@1 still served from the cache after a hard purge", name)
			}
			if _, err := s.Manifest(ctx, name, "1"); !errors.Is(err, content.ErrPurged) {
				t.Errorf("%s@1 after a hard purge: %v, want ErrPurged", name, err)
			}
			if _, err := s.Manifest(ctx, name, ""); !errors.Is(err, content.ErrNotFound) {
				t.Errorf("latest %s after a hard purge: %v, want ErrNotFound", name, err)
			}
		}
		if _, _, ok := s.Warm("c@1"); !ok {
			t.Errorf("c@1, not tagged release-42, left the cache")
		}
	}

	gets := func() (n int) {
		for _, ag := range a.All() {
			for _, sh := range mc.Shards {
				n += ag.Gets(sh.Hash)
			}
		}
		return n
	}
	reads := gets()
	if _, err := pub.PurgeBy(ctx, records.PurgeRequest{Key: "site", Mode: records.PurgeSoft, Reason: "refresh"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*content.Service{pub, other} {
		waitFor(t, "the soft purge", func() bool { return s.PurgeStats().Invalidations == 3 })
		if _, _, ok := s.Warm("c@1"); ok {
			t.Errorf("c@1 served without revalidation after a soft purge")
		}
		m, err := s.Manifest(ctx, "c", "1")
		if err != nil || m.IsPurged() {
			t.Fatalf("c@1 after a soft purge: %v", err)
		}
		if got := s.PurgeStats().Revalidations; got != 1 {
			t.Errorf("%d revalidations, want 1", got)
		}
		if _, _, ok := s.Warm("c@1"); !ok {
			t.Errorf("c@1's content was not kept through a soft purge")
		}
	}
	if got := gets(); got != reads {
		t.Errorf("a soft purge made %d shard reads; the content should be reused", got-reads)
	}
}

// TestPurgeByRefusals: malformed and excess surrogate keys are refused at
// publish, malformed purges before the ledger, and a key of another
// organisation reaches nothing.
func TestPurgeByRefusals(t *testing.T) {
	pub, l, a := newTestService(t, 6, nil)
	other := watching(t, l, a, time.Hour)
	publishTagged(t, pub, "a", payload(1000), "k")
	many := make([]string, records.MaxSurrogateKeys+1)
	for i := range many {
		many[i] = "k" + strconv.Itoa(i)
	}
	ctx := context.Background()
	for _, keys := range [][]string{{"bad key"}, {""}, {"x", "x"}, many, {string(make([]byte, 65))}} {
		_, err := pub.Publish(content.WithSurrogateKeys(ctx, keys), "b", "", 3, bytes.NewReader([]byte("abc")))
		if !errors.Is(err, content.ErrInvalid) {
			t.Errorf("publish with keys %q: %v, want ErrInvalid", keys, err)
		}
	}
	tests := []struct {
		name string
		s    *content.Service
		req  records.PurgeRequest
		want error
	}{
		{"malformed key", pub, records.PurgeRequest{Key: "a b", Mode: records.PurgeHard, Reason: "r"}, content.ErrInvalid},
		{"no reason", pub, records.PurgeRequest{Key: "k", Mode: records.PurgeHard}, content.ErrInvalid},
		{"bad mode", pub, records.PurgeRequest{Key: "k", Mode: "all", Reason: "r"}, content.ErrInvalid},
		{"another org's key", other, records.PurgeRequest{Key: "k", Mode: records.PurgeHard, Reason: "r"}, content.ErrNotFound},
		{"another org's object", other, records.PurgeRequest{Name: "a", Mode: records.PurgeSoft, Reason: "r"}, content.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.PurgeBy(ctx, tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("PurgeBy(%+v) = %v, want %v", tt.req, err, tt.want)
			}
		})
	}
	if m, err := pub.Manifest(ctx, "a", "1"); err != nil || m.IsPurged() {
		t.Fatalf("a refused purge changed a@1: %v", err)
	}
}
