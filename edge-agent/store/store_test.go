package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const kib = 1 << 10

func payload(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(size)))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func openStore(t *testing.T, dir string, capacity int64) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{Capacity: capacity})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put stores b in pieces of at most piece bytes.
func put(t *testing.T, s *Store, b []byte, piece int) string {
	t.Helper()
	h := sum(b)
	if err := tryPut(s, b, h, piece); err != nil {
		t.Fatalf("put %d bytes: %v", len(b), err)
	}
	return h
}

func tryPut(s *Store, b []byte, hash string, piece int) error {
	ctx := context.Background()
	u, err := s.Create(ctx, int64(len(b)))
	if err != nil {
		return err
	}
	for p := b; len(p) > 0; {
		n := min(piece, len(p))
		if _, err := u.Write(p[:n]); err != nil {
			u.Abort()
			return err
		}
		p = p[n:]
	}
	return u.Commit(ctx, hash)
}

func read(s *Store, hash string, off, n int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := s.ReadRange(context.Background(), hash, off, n, &buf)
	return buf.Bytes(), err
}

func shardFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, shardsDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 64*kib - 1, 64 * kib, 64*kib + 1, 200 * kib}
	if !testing.Short() {
		sizes = append(sizes, 3<<20+123, 8<<20)
	}
	s := openStore(t, t.TempDir(), 1<<30)
	var total int64
	for i, size := range sizes {
		for _, piece := range []int{1 << 20, 4093} {
			t.Run(fmt.Sprintf("%d/%d", size, piece), func(t *testing.T) {
				b := payload(size, uint64(i))
				h := put(t, s, b, piece)
				got, err := read(s, h, 0, 0)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if !bytes.Equal(got, b) {
					t.Fatalf("read %d bytes differing from the %d written", len(got), len(b))
				}
				sh, err := s.OpenShard(context.Background(), h)
				if err != nil {
					t.Fatal(err)
				}
				defer sh.Close()
				if sh.Size() != int64(size) || sh.Hash() != h {
					t.Fatalf("Size %d Hash %s, want %d %s", sh.Size(), sh.Hash(), size, h)
				}
			})
		}
		total += int64(size)
	}
	st := s.Stats()
	if st.Used != total || st.Shards != int64(len(sizes)) || st.Reserved != 0 {
		t.Fatalf("stats %+v, want used %d shards %d", st, total, len(sizes))
	}
}

func TestReadRange(t *testing.T) {
	const size = 3*64*kib + 100
	s := openStore(t, t.TempDir(), 1<<30)
	b := payload(size, 7)
	h := put(t, s, b, 1<<20)
	empty := put(t, s, nil, 1)
	tests := []struct {
		name    string
		hash    string
		off, n  int64
		want    []byte
		wantErr error
	}{
		{"whole", h, 0, 0, b, nil},
		{"whole explicit", h, 0, size, b, nil},
		{"first byte", h, 0, 1, b[:1], nil},
		{"last byte", h, size - 1, 1, b[size-1:], nil},
		{"to the end", h, 100, 0, b[100:], nil},
		{"within a block", h, 10, 100, b[10:110], nil},
		{"across blocks", h, 64*kib - 10, 64*kib + 20, b[64*kib-10 : 2*64*kib+10], nil},
		{"last partial block", h, 3 * 64 * kib, 100, b[3*64*kib:], nil},
		{"at the end", h, size, 0, nil, nil},
		{"empty shard", empty, 0, 0, nil, nil},
		{"offset beyond", h, size + 1, 0, nil, ErrOutOfRange},
		{"length beyond", h, size - 10, 11, nil, ErrOutOfRange},
		{"at the end with length", h, size, 1, nil, ErrOutOfRange},
		{"huge length", h, 1, 1 << 62, nil, ErrOutOfRange},
		{"negative offset", h, -1, 0, nil, ErrInvalid},
		{"negative length", h, 0, -1, nil, ErrInvalid},
		{"empty shard beyond", empty, 0, 1, nil, ErrOutOfRange},
		{"unknown", sum([]byte("nope")), 0, 0, nil, ErrNotFound},
		{"bad hash", "ABC", 0, 0, nil, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := read(s, tc.hash, tc.off, tc.n)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}

func TestCommitFailuresKeepNothing(t *testing.T) {
	b := payload(100*kib, 1)
	tests := []struct {
		name    string
		declare int64
		write   []byte
		hash    string
		wantErr error
	}{
		{"hash mismatch", int64(len(b)), b, sum(append([]byte{1}, b...)), ErrHashMismatch},
		{"short", int64(len(b)) + 1, b, sum(b), ErrSizeMismatch},
		{"long", int64(len(b)) - 1, b, sum(b), ErrSizeMismatch},
		{"invalid hash", int64(len(b)), b, strings.ToUpper(sum(b)), ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, 1<<30)
			ctx := context.Background()
			u, err := s.Create(ctx, tc.declare)
			if err != nil {
				t.Fatal(err)
			}
			u.Write(tc.write) // may fail (long); Commit reports it
			if err := u.Commit(ctx, tc.hash); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Commit: %v, want %v", err, tc.wantErr)
			}
			if err := u.Commit(ctx, sum(b)); !errors.Is(err, ErrUploadDone) {
				t.Fatalf("second Commit: %v, want ErrUploadDone", err)
			}
			if files := shardFiles(t, dir); len(files) != 0 {
				t.Fatalf("files left: %v", files)
			}
			if st := s.Stats(); st.Used != 0 || st.Reserved != 0 || st.Shards != 0 {
				t.Fatalf("stats %+v", st)
			}
			if s.Has(sum(b)) {
				t.Fatal("shard stored")
			}
		})
	}
}

func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	kept := payload(70*kib, 1)
	keptHash := put(t, s, kept, 1<<20)

	// An upload cut short by a crash: written, never committed.
	partial := payload(200*kib, 2)
	u, err := s.Create(context.Background(), int64(len(partial)))
	if err != nil {
		t.Fatal(err)
	}
	u.Write(partial[:150*kib])
	// A complete temp file whose name gives away nothing, and a sidecar
	// being written.
	shards := filepath.Join(dir, shardsDir)
	os.WriteFile(filepath.Join(shards, uploadPrefix+"123"), partial, 0o600)
	os.WriteFile(filepath.Join(shards, sidecarPrefix+"456"), []byte("x"), 0o600)
	// A sidecar whose shard never made it (crash between renames).
	orphan := sum([]byte("orphan"))
	os.WriteFile(filepath.Join(shards, orphan+sidecarSuffix), []byte("x"), 0o600)
	// A shard whose sidecar never made it: intact, and damaged.
	intact := payload(130*kib, 3)
	intactHash := sum(intact)
	os.WriteFile(filepath.Join(shards, intactHash), intact, 0o600)
	damaged := sum([]byte("damaged"))
	os.WriteFile(filepath.Join(shards, damaged), []byte("not the damaged bytes"), 0o600)
	s.Close() // the "kill -9": nothing cleaned up

	s = openStore(t, dir, 1<<30)
	files := shardFiles(t, dir)
	want := []string{keptHash, keptHash + sidecarSuffix, intactHash, intactHash + sidecarSuffix}
	if fmt.Sprint(sorted(files)) != fmt.Sprint(sorted(want)) {
		t.Fatalf("files after reopen %v, want %v", files, want)
	}
	if _, err := read(s, sum(partial), 0, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("partial upload: %v, want ErrNotFound", err)
	}
	if _, err := read(s, damaged, 0, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("damaged: %v, want ErrNotFound", err)
	}
	for h, b := range map[string][]byte{keptHash: kept, intactHash: intact} {
		got, err := read(s, h, 0, 0)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("read %s: %v", h, err)
		}
	}
	st := s.Stats()
	if st.Used != int64(len(kept)+len(intact)) || st.Shards != 2 || st.Quarantined != 1 || st.Reserved != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestBitRot(t *testing.T) {
	const bs = 64 * kib
	b := payload(4*bs+10, 9)
	tests := []struct {
		name     string
		flip     int64 // byte flipped in the shard file; -1: in the sidecar
		truncate bool
		off, n   int64
		corrupt  bool
	}{
		{"whole read", 2*bs + 5, false, 0, 0, true},
		{"range in the block", 2*bs + 5, false, 2*bs + 100, 10, true},
		{"range ending in the block", 2*bs + 5, false, bs, bs + 1, true},
		{"range starting in the block", 2*bs + 5, false, 3*bs - 1, 2, true},
		{"range before the block", 2*bs + 5, false, 0, 2 * bs, false},
		{"range after the block", 2*bs + 5, false, 3 * bs, 0, false},
		{"last partial block", 4*bs + 3, false, 4 * bs, 1, true},
		{"sidecar", -1, false, 0, 1, true},
		{"truncated", 0, true, 3 * bs, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, 1<<30)
			h := put(t, s, b, 1<<20)
			path := filepath.Join(dir, shardsDir, h)
			switch {
			case tc.truncate:
				if err := os.Truncate(path, int64(len(b))-1); err != nil {
					t.Fatal(err)
				}
			case tc.flip < 0:
				flip(t, path+sidecarSuffix, sidecarHeader+5)
			default:
				flip(t, path, tc.flip)
			}
			got, err := read(s, h, tc.off, tc.n)
			if !tc.corrupt {
				want, _ := CheckRange(int64(len(b)), tc.off, tc.n)
				if err != nil || !bytes.Equal(got, b[tc.off:tc.off+want]) {
					t.Fatalf("clean range: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
			// What was served before the error is a verified prefix.
			if !bytes.Equal(got, b[tc.off:tc.off+int64(len(got))]) {
				t.Fatalf("served %d bytes that differ from the shard", len(got))
			}
			if bad := tc.flip / bs * bs; tc.flip >= 0 && len(got) > 0 && tc.off+int64(len(got)) > bad {
				t.Fatalf("served bytes of the damaged block")
			}
			// Quarantined: never served again, not counted.
			if _, err := read(s, h, 0, 0); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after quarantine: %v, want ErrNotFound", err)
			}
			if st := s.Stats(); st.Used != 0 || st.Shards != 0 || st.Quarantined != 1 {
				t.Fatalf("stats %+v", st)
			}
			// It can be stored again.
			put(t, s, b, 1<<20)
			if got, err := read(s, h, 0, 0); err != nil || !bytes.Equal(got, b) {
				t.Fatalf("re-put read: %v", err)
			}
		})
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	one := make([]byte, 1)
	if _, err := f.ReadAt(one, at); err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0x10
	if _, err := f.WriteAt(one, at); err != nil {
		t.Fatal(err)
	}
}

func TestCapacity(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir(), 100)
	a, err := s.Create(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, 41); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("over reservation: %v, want ErrNoSpace", err)
	}
	b, err := s.Create(ctx, 40)
	if err != nil {
		t.Fatalf("exact fit: %v", err)
	}
	if st := s.Stats(); st.Reserved != 100 || st.Free() != 0 {
		t.Fatalf("stats %+v", st)
	}
	a.Abort()
	a.Abort()
	if st := s.Stats(); st.Reserved != 40 {
		t.Fatalf("after abort: %+v", st)
	}
	data := payload(40, 1)
	b.Write(data)
	if err := b.Commit(ctx, sum(data)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, 61); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("over capacity: %v, want ErrNoSpace", err)
	}
	if st := s.Stats(); st.Used != 40 || st.Reserved != 0 || st.Free() != 60 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := s.Create(ctx, -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative size: %v", err)
	}
}

func TestIdempotentPutDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir, 1<<20)
	b := payload(1000, 4)
	h := put(t, s, b, 100)
	put(t, s, b, 7)
	if st := s.Stats(); st.Used != 1000 || st.Shards != 1 || st.Reserved != 0 {
		t.Fatalf("stats after double put %+v", st)
	}
	if files := shardFiles(t, dir); len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	for i, want := range []bool{true, false} {
		existed, err := s.Delete(ctx, h)
		if err != nil || existed != want {
			t.Fatalf("delete %d: existed %v err %v, want %v", i, existed, err, want)
		}
	}
	if files := shardFiles(t, dir); len(files) != 0 {
		t.Fatalf("files after delete %v", files)
	}
	if st := s.Stats(); st.Used != 0 || st.Shards != 0 {
		t.Fatalf("stats after delete %+v", st)
	}
	if _, err := s.Delete(ctx, "xyz"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("delete bad hash: %v", err)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{Capacity: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{Capacity: 1 << 30}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	var hashes []string
	var used int64
	for i, size := range []int{0, 10, 64 * kib, 100 * kib} {
		hashes = append(hashes, put(t, s, payload(size, uint64(i)), 1<<20))
		used += int64(size)
	}
	s.Delete(context.Background(), hashes[1])
	used -= 10
	s.Close()
	if _, err := s.Create(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Create after Close: %v", err)
	}
	s = openStore(t, dir, 1<<30)
	if st := s.Stats(); st.Used != used || st.Shards != 3 {
		t.Fatalf("stats after reopen %+v, want used %d", st, used)
	}
	for i, h := range hashes {
		if got := s.Has(h); got != (i != 1) {
			t.Fatalf("Has(%d) = %v", i, got)
		}
	}
	if _, err := read(s, hashes[3], 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestContextCanceled(t *testing.T) {
	s := openStore(t, t.TempDir(), 1<<30)
	h := put(t, s, payload(200*kib, 1), 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	sh, err := s.OpenShard(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	cancel()
	var buf bytes.Buffer
	if _, err := sh.ReadRange(ctx, 0, 0, &buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadRange: %v", err)
	}
	if _, err := s.Create(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create: %v", err)
	}
	u, _ := s.Create(context.Background(), 0)
	if err := u.Commit(ctx, sum(nil)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit: %v", err)
	}
	if st := s.Stats(); st.Reserved != 0 {
		t.Fatalf("reservation kept: %+v", st)
	}
}

func TestConcurrent(t *testing.T) {
	s := openStore(t, t.TempDir(), 1<<30)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				// Workers share shards pairwise, so puts, reads and deletes
				// of the same shard race.
				b := payload(70*kib+i, uint64(w/2*100+i))
				h := sum(b)
				if err := tryPut(s, b, h, 32*kib); err != nil {
					errs <- err
					return
				}
				got, err := read(s, h, 0, 0)
				if err != nil && !errors.Is(err, ErrNotFound) {
					errs <- err
					return
				}
				if err == nil && !bytes.Equal(got, b) {
					errs <- fmt.Errorf("shard %s read back wrong", h)
					return
				}
				if i%2 == 0 {
					if _, err := s.Delete(context.Background(), h); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := s.Stats()
	if st.Reserved != 0 {
		t.Fatalf("stats %+v", st)
	}
	var used int64
	for w := 0; w < 8; w += 2 {
		for i := 1; i < 8; i += 2 {
			used += int64(70*kib + i)
		}
	}
	if st.Used != used {
		t.Fatalf("used %d, want %d", st.Used, used)
	}
}

func TestValidHash(t *testing.T) {
	good := sum(nil)
	tests := []struct {
		hash string
		ok   bool
	}{
		{good, true},
		{"", false},
		{good[:63], false},
		{good + "0", false},
		{strings.ToUpper(good), false},
		{"g" + good[1:], false},
		{"../" + good[3:], false},
	}
	for _, tc := range tests {
		if err := ValidHash(tc.hash); (err == nil) != tc.ok {
			t.Errorf("ValidHash(%q) = %v, want ok %v", tc.hash, err, tc.ok)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Capacity: 0}, {Capacity: 1, BlockSize: 1000}, {Capacity: 1, BlockSize: 256}} {
		if _, err := Open(context.Background(), t.TempDir(), o); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%+v): %v, want ErrInvalid", o, err)
		}
	}
	s, err := Open(context.Background(), t.TempDir(), Options{Capacity: 1 << 20, BlockSize: MinBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := payload(5000, 1)
	h := put(t, s, b, 333)
	if got, err := read(s, h, 1000, 2000); err != nil || !bytes.Equal(got, b[1000:3000]) {
		t.Fatalf("small blocks: %v", err)
	}
}
