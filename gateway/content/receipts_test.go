package content_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"github.com/dct-network/dct/pkg/receipts"
)

func readWithID(t *testing.T, s *content.Service, m *records.Manifest, off, n int64, want []byte) {
	t.Helper()
	got, err := s.Read(content.WithRequestID(context.Background(), "req-42"), m, off, n)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %s %d+%d: %v", m, off, n, err)
	}
}

// A whole read (decoded whole, shards checked by hash) issues one receipt
// per shard used: k of them, each naming the shard's holder and the
// request; a cached read issues none.
func TestReceiptsOfAWholeRead(t *testing.T) {
	rc := &contenttest.Receipts{}
	s, _, _ := newTestService(t, 6, nil, content.WithReceipts(rc))
	body := payload(15_000)
	m := publishWith(t, s, "rc/a.js", body)
	readWithID(t, s, m, 0, m.Size, body)
	ds := rc.Take()
	if len(ds) != 4 {
		t.Fatalf("%d receipts, want k=4: %+v", len(ds), ds)
	}
	seen := map[int]bool{}
	for _, d := range ds {
		sh := m.Shards[d.Shard]
		if seen[d.Shard] || d.Node != sh.Nodes[0] || d.ShardHash != sh.Hash || d.Offset != 0 || d.Bytes != sh.Size ||
			d.Request != "req-42" || d.Publisher != "Org1MSP" || d.Object != m.Name || d.Version != m.Version {
			t.Fatalf("receipt %+v for shard %+v", d, sh)
		}
		seen[d.Shard] = true
	}
	readWithID(t, s, m, 0, m.Size, body) // from the cache
	if ds := rc.Take(); len(ds) != 0 {
		t.Fatalf("a cached read issued %d receipts", len(ds))
	}
}

// A corrupt shard gets no receipt; the shards that replaced it do.
func TestNoReceiptForACorruptShard(t *testing.T) {
	rc := &contenttest.Receipts{}
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0 }, content.WithReceipts(rc))
	body := payload(15_000)
	m := publishWith(t, s, "rc/b.js", body)
	bad := m.Shards[0].Nodes[0]
	agents.Get(bad).Corrupt()
	readWithID(t, s, m, 0, m.Size, body)
	ds := rc.Take()
	if len(ds) != 4 {
		t.Fatalf("%d receipts, want 4", len(ds))
	}
	for _, d := range ds {
		if d.Node == bad {
			t.Fatalf("receipt for the corrupt copy: %+v", d)
		}
	}
}

// Streamed (ranged) reads of a large object: each segment issues a receipt
// per shard used, for the shard range it fetched. A segment whose decode
// fails (a corrupt byte in an authenticated chunk) issues none for its
// first fetch: the whole shards fetched again are checked by hash and the
// corrupt copy gets no receipt. (Bytes of the edge stripes outside the
// chunks decoded, and padding, are not authenticated by a ranged read:
// a receipt covers the range fetched.)
func TestReceiptsOfRangedReads(t *testing.T) {
	rc := &contenttest.Receipts{}
	s, _, agents := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = 0 }, content.WithReceipts(rc))
	body := payload(60_000) // above CacheMaxObject: streamed in segments
	m := publishWith(t, s, "rc/c.bin", body)
	readWithID(t, s, m, 0, m.Size, body)
	ds := rc.Take()
	bad := m.Shards[0].Nodes[0]
	badBytes := func(ds []receipts.Delivery) (n int64) {
		for _, d := range ds {
			if d.Node == bad {
				n += d.Bytes
			}
		}
		return n
	}
	clean := badBytes(ds)
	if len(ds) == 0 || len(ds)%4 != 0 {
		t.Fatalf("%d receipts, want a multiple of k=4", len(ds))
	}
	for _, d := range ds {
		if d.Offset < 0 || d.Bytes <= 0 || d.Offset+d.Bytes > m.Shards[d.Shard].Size || d.Request != "req-42" {
			t.Fatalf("receipt %+v", d)
		}
	}
	agents.Get(bad).Corrupt() // flips byte Size/2 of every shard it holds
	readWithID(t, s, m, 0, m.Size, body)
	ds = rc.Take()
	if got := badBytes(ds); got >= clean {
		t.Fatalf("the corrupt copy got receipts for %d bytes, %d when it was sound", got, clean)
	}
	for _, d := range ds {
		if d.Node == bad && d.Offset == 0 && d.Bytes == m.Shards[d.Shard].Size {
			t.Fatalf("a whole-shard receipt for the corrupt copy: %+v", d)
		}
	}
	// Without a request id: "internal".
	if _, err := s.Read(context.Background(), m, 0, 100); err != nil {
		t.Fatal(err)
	}
	for _, d := range rc.Take() {
		if d.Request != "internal" {
			t.Fatalf("request %q", d.Request)
		}
	}
}
