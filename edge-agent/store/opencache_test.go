package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A cached shard is served only while the store holds it, and every read
// of it is still verified block by block.
func TestOpenShardsAfterChange(t *testing.T) {
	const bs = 64 * kib
	b := payload(3*bs+7, 21)
	tests := []struct {
		name    string
		change  func(t *testing.T, s *Store, path string)
		wantErr error
	}{
		{"deleted", func(t *testing.T, s *Store, path string) {
			if _, err := s.Delete(context.Background(), sum(b)); err != nil {
				t.Fatal(err)
			}
		}, ErrNotFound},
		{"bit rot", func(t *testing.T, s *Store, path string) { flip(t, path, bs+3) }, ErrCorrupt},
		{"truncated", func(t *testing.T, s *Store, path string) {
			if err := os.Truncate(path, 2*bs); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, 1<<30)
			h := put(t, s, b, 1<<20)
			if got, err := read(s, h, 0, 0); err != nil || !bytes.Equal(got, b) {
				t.Fatalf("first read: %v", err)
			}
			if n := s.open.len(); n != 1 {
				t.Fatalf("%d shards cached after a read, want 1", n)
			}
			tc.change(t, s, filepath.Join(dir, shardsDir, h))
			if _, err := read(s, h, 0, 0); !errors.Is(err, tc.wantErr) {
				t.Fatalf("read after the change: %v, want %v", err, tc.wantErr)
			}
			if _, err := read(s, h, 0, 0); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second read after the change: %v, want ErrNotFound", err)
			}
			if n := s.open.len(); n != 0 {
				t.Fatalf("%d shards cached after the change, want 0", n)
			}
			// Stored again, it is served again.
			put(t, s, b, 1<<20)
			if got, err := read(s, h, bs, 10); err != nil || !bytes.Equal(got, b[bs:bs+10]) {
				t.Fatalf("read after a new put: %v", err)
			}
		})
	}
}

// The cache holds at most OpenShards shards; a reader keeps an evicted
// shard readable until it closes it.
func TestOpenShardsBound(t *testing.T) {
	tests := []struct {
		name       string
		openShards int
		wantCached int
	}{
		{"bounded", 2, 2},
		{"off", -1, 0},
		{"default", 0, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, t.TempDir(), Options{Capacity: 1 << 30, OpenShards: tc.openShards})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var shards [][]byte
			var hashes []string
			for i := range 4 {
				b := payload(1000+i, uint64(i))
				shards = append(shards, b)
				hashes = append(hashes, put(t, s, b, 1<<20))
			}
			held, err := s.OpenShard(ctx, hashes[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hashes[1:] {
				if _, err := read(s, h, 0, 0); err != nil {
					t.Fatal(err)
				}
			}
			if n := s.open.len(); n != tc.wantCached {
				t.Fatalf("%d shards cached, want %d", n, tc.wantCached)
			}
			var buf bytes.Buffer
			if _, err := held.ReadRange(ctx, 0, 0, &buf); err != nil || !bytes.Equal(buf.Bytes(), shards[0]) {
				t.Fatalf("held shard after eviction: %v", err)
			}
			if err := held.Close(); err != nil {
				t.Fatal(err)
			}
			if err := held.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			for i, h := range hashes {
				if got, err := read(s, h, 0, 0); err != nil || !bytes.Equal(got, shards[i]) {
					t.Fatalf("shard %d: %v", i, err)
				}
			}
		})
	}
}
