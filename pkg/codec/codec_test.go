package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"testing"
)

var testMaster = bytes.Repeat([]byte{0x42}, 32)

func testKey(t testing.TB) Key {
	t.Helper()
	k, err := DeriveKey(testMaster, bytes.Repeat([]byte{1}, 16))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func payload(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n) + 1)).Read(b)
	return b
}

func TestRoundTripSizes(t *testing.T) {
	key := testKey(t)
	sizes := []int{0, 1, 2, 15, 16, 17, 63, 64, 65, 600, 1023, 1024, 1025, 4096, 65535, 65536, 65537, 100_000, 1 << 20, 3<<20 + 7}
	schemes := []struct{ k, m int }{{4, 2}, {2, 1}, {3, 0}, {10, 4}}
	for _, rs := range schemes {
		for _, size := range sizes {
			if testing.Short() && size > 1<<20 {
				continue
			}
			t.Run(fmt.Sprintf("k%d_m%d_%d", rs.k, rs.m, size), func(t *testing.T) {
				l, err := PlanLayout(int64(size), Redundancy{K: rs.k, M: rs.m}, 1024, 8192)
				if err != nil {
					t.Fatal(err)
				}
				data := payload(size)
				shards, res, err := EncodeBytes(l, key, data)
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range shards {
					if int64(len(s)) != l.ShardSize() {
						t.Fatalf("shard %d has %d bytes, layout says %d", i, len(s), l.ShardSize())
					}
					if !VerifyShard(s, res.ShardHashes[i]) {
						t.Fatalf("shard %d does not match its hash", i)
					}
				}
				got, err := DecodeBytes(l, key, shards, res.ShardHashes)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Fatal("round trip differs")
				}
				if int64(len(data)) > 0 && bytes.Contains(bytes.Join(shards, nil), data[:min(len(data), 64)]) && len(data) >= 32 {
					t.Fatal("plaintext visible in the shards")
				}
			})
		}
	}
}

// TestAnyMShardsLost drops every combination of m shards (k=4, m=2).
func TestAnyMShardsLost(t *testing.T) {
	key := testKey(t)
	data := payload(50_000)
	l, err := PlanLayout(int64(len(data)), Redundancy{K: 4, M: 2}, 4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	shards, res, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	n := l.K + l.M
	for a := 0; a < n; a++ {
		for b := a + 1; b < n; b++ {
			in := append([][]byte(nil), shards...)
			in[a], in[b] = nil, nil
			got, err := DecodeBytes(l, key, in, res.ShardHashes)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("lost %d and %d: %v", a, b, err)
			}
		}
	}
	// m+1 lost: too few.
	in := append([][]byte(nil), shards...)
	in[0], in[1], in[5] = nil, nil, nil
	if _, err := DecodeBytes(l, key, in, res.ShardHashes); !errors.Is(err, ErrTooFewShards) {
		t.Fatalf("three lost = %v, want ErrTooFewShards", err)
	}
}

// TestFlippedByte: a flipped byte in any shard is caught by its hash and the
// shard excluded; without hashes, authentication catches it.
func TestFlippedByte(t *testing.T) {
	key := testKey(t)
	data := payload(20_000)
	l, err := PlanLayout(int64(len(data)), Redundancy{K: 4, M: 2}, 1024, 1024)
	if err != nil {
		t.Fatal(err)
	}
	shards, res, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range shards {
		for _, pos := range []int64{0, l.ShardSize() / 2, l.ShardSize() - 1} {
			in := make([][]byte, len(shards))
			for j := range shards {
				in[j] = bytes.Clone(shards[j])
			}
			in[i][pos] ^= 0x01
			if VerifyShard(in[i], res.ShardHashes[i]) {
				t.Fatalf("shard %d byte %d flipped still verifies", i, pos)
			}
			got, err := DecodeBytes(l, key, in, res.ShardHashes)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("shard %d byte %d flipped: %v", i, pos, err)
			}
			// Without the hashes a flipped data byte (outside the
			// last stripe's padding) fails authentication.
			if i < l.K && pos == 0 {
				if _, err := DecodeBytes(l, key, in, nil); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("shard %d flipped, no hashes: %v, want ErrCorrupt", i, err)
				}
			}
		}
	}
}

func TestRanges(t *testing.T) {
	key := testKey(t)
	data := payload(100_000)
	l, err := PlanLayout(int64(len(data)), Redundancy{K: 4, M: 2}, 1000, 2048)
	if err != nil {
		t.Fatal(err)
	}
	shards, _, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(l, key)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(9))
	cases := [][2]int64{{0, 0}, {0, 1}, {999, 2}, {1000, 1000}, {99_999, 1}, {100_000, 0}, {50_000, 50_000}, {0, 100_000}}
	for i := 0; i < 50; i++ {
		off := r.Int63n(100_000)
		cases = append(cases, [2]int64{off, r.Int63n(100_000 - off + 1)})
	}
	for _, c := range cases {
		p, err := l.PlanRange(c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		in := make([][]byte, len(shards))
		for i, s := range shards {
			in[i] = s[p.ShardOff : p.ShardOff+p.ShardLen]
		}
		in[1] = nil // force reconstruction
		got, err := dec.DecodeRange(p, in)
		if err != nil || !bytes.Equal(got, data[c[0]:c[0]+c[1]]) {
			t.Fatalf("range %v: %v", c, err)
		}
		if p.ShardLen > l.ShardSize() || (c[1] < 3000 && p.ShardLen > 3*l.Unit) {
			t.Fatalf("range %v reads %d bytes of every shard (unit %d): not local", c, p.ShardLen, l.Unit)
		}
	}
	for _, bad := range [][2]int64{{-1, 1}, {0, 100_001}, {100_001, 0}, {5, -1}} {
		if _, err := l.PlanRange(bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Fatalf("PlanRange(%v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestLayoutChoice(t *testing.T) {
	tests := []struct {
		size        int64
		k, m        int
		unit, shard int64
	}{
		{0, 4, 2, 64, 64},
		{600, 4, 2, 192, 192},                 // (600+16)/4 = 154 -> 192
		{100 << 10, 4, 2, 25664, 25664},       // one stripe
		{1 << 20, 4, 2, 131136, 2 * 131136},   // two stripes, 256 bytes of tags
		{64 << 20, 4, 2, 258176, 65 * 258176}, // 65 stripes just under the maximum unit
	}
	for _, tt := range tests {
		l, err := PlanLayout(tt.size, Redundancy{K: tt.k, M: tt.m}, DefaultChunkSize, DefaultMaxUnit)
		if err != nil {
			t.Fatal(err)
		}
		if l.Unit != tt.unit || l.ShardSize() != tt.shard {
			t.Errorf("size %d: unit %d shard %d, want %d %d", tt.size, l.Unit, l.ShardSize(), tt.unit, tt.shard)
		}
	}
	bad := []struct {
		size       int64
		r          Redundancy
		chunk, max int64
	}{
		{-1, Redundancy{4, 2}, 1024, 4096},
		{1, Redundancy{0, 2}, 1024, 4096},
		{1, Redundancy{4, -1}, 1024, 4096},
		{1, Redundancy{200, 57}, 1024, 4096},
		{1, Redundancy{4, 2}, 0, 4096},
		{1, Redundancy{4, 2}, 1024, 10},
	}
	for _, b := range bad {
		if _, err := PlanLayout(b.size, b.r, b.chunk, b.max); !errors.Is(err, ErrInvalid) {
			t.Errorf("PlanLayout(%+v) = %v, want ErrInvalid", b, err)
		}
	}
}

func TestWrongKeyAndWrongSize(t *testing.T) {
	key := testKey(t)
	data := payload(3000)
	l, _ := PlanLayout(3000, Redundancy{K: 2, M: 1}, 1024, 4096)
	shards, _, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := DeriveKey(testMaster, bytes.Repeat([]byte{2}, 16))
	if _, err := DecodeBytes(l, other, shards, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong key: %v", err)
	}
	// The size is bound into every chunk: a manifest claiming another size
	// cannot decode the same shards.
	l2 := l
	l2.Size = 2999
	if _, err := DecodeBytes(l2, key, shards, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong size: %v", err)
	}
}

func TestEncoderMisuse(t *testing.T) {
	key := testKey(t)
	l, _ := PlanLayout(10, Redundancy{K: 2, M: 1}, 1024, 4096)
	sink := func(int64, [][]byte) error { return nil }
	e, _ := NewEncoder(l, key, sink)
	if _, err := e.Write(make([]byte, 11)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("overlong write: %v", err)
	}
	e, _ = NewEncoder(l, key, sink)
	e.Write(make([]byte, 9))
	if _, err := e.Close(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short close: %v", err)
	}
	failing := errors.New("agent down")
	e, _ = NewEncoder(l, key, func(int64, [][]byte) error { return failing })
	e.Write(make([]byte, 10))
	if _, err := e.Close(); !errors.Is(err, failing) {
		t.Fatalf("sink error: %v", err)
	}
	if _, err := NewEncoder(l, Key{}, sink); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero key: %v", err)
	}
}

func TestStreamingMatchesWhole(t *testing.T) {
	// Writing in odd pieces gives the same shards as one write.
	key := testKey(t)
	data := payload(batchTarget + 300_000)
	l, _ := PlanLayout(int64(len(data)), Redundancy{K: 4, M: 2}, 4000, 8192)
	whole, res1, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]byte, 6)
	var offs []int64
	e, _ := NewEncoder(l, key, func(off int64, blocks [][]byte) error {
		offs = append(offs, off)
		for i, b := range blocks {
			if int64(len(got[i])) != off {
				return fmt.Errorf("shard %d: block at %d, have %d", i, off, len(got[i]))
			}
			got[i] = append(got[i], b...)
		}
		return nil
	})
	r := rand.New(rand.NewSource(3))
	for p := data; len(p) > 0; {
		n := min(len(p), 1+r.Intn(7000))
		if _, err := e.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	res2, err := e.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i := range whole {
		if !bytes.Equal(whole[i], got[i]) || res1.ShardHashes[i] != res2.ShardHashes[i] {
			t.Fatalf("shard %d differs", i)
		}
	}
	if len(offs) < 2 {
		t.Fatalf("expected several sink calls for a streamed object, got %d", len(offs))
	}
}

func TestKeys(t *testing.T) {
	if _, err := DeriveKey(make([]byte, 31), make([]byte, 16)); !errors.Is(err, ErrInvalid) {
		t.Fatal("short master key accepted")
	}
	if _, err := DeriveKey(testMaster, make([]byte, 15)); !errors.Is(err, ErrInvalid) {
		t.Fatal("short salt accepted")
	}
	id := KeyID(testMaster)
	if len(id) != 16 || id == KeyID(append([]byte{0x43}, testMaster[1:]...)) {
		t.Fatalf("KeyID %q", id)
	}
	k := testKey(t)
	if s := fmt.Sprint(k); s != "codec.Key(redacted)" {
		t.Fatalf("key printed as %q", s)
	}
}

func TestParseHash(t *testing.T) {
	h := HashShard([]byte("x"))
	got, err := ParseHash(h.String())
	if err != nil || got != h {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "abc", h.String()[:63] + "G", "A" + h.String()[1:], h.String() + "0"} {
		if _, err := ParseHash(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
}

func TestRebuildShard(t *testing.T) {
	key := testKey(t)
	data := payload(70_000)
	l, _ := PlanLayout(int64(len(data)), Redundancy{K: 4, M: 2}, 1024, 4096)
	shards, res, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range shards {
		in := append([][]byte(nil), shards...)
		in[i] = nil
		in[(i+1)%len(in)] = nil // a second shard lost too
		got, err := RebuildShard(l, in, i, res.ShardHashes[i])
		if err != nil || !bytes.Equal(got, shards[i]) {
			t.Fatalf("rebuild shard %d: %v", i, err)
		}
	}
	// A corrupt source is caught by the hash of the result.
	in := append([][]byte(nil), shards...)
	in[0] = nil
	in[1] = bytes.Clone(in[1])
	in[1][7] ^= 1
	if _, err := RebuildShard(l, in, 0, res.ShardHashes[0]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("rebuild from a corrupt shard: %v", err)
	}
	in = [][]byte{nil, nil, nil, shards[3], shards[4], shards[5]}
	if _, err := RebuildShard(l, in, 0, res.ShardHashes[0]); !errors.Is(err, ErrTooFewShards) {
		t.Fatalf("rebuild from 3 shards: %v", err)
	}
}

func TestKeyCache(t *testing.T) {
	if _, err := NewKeyCache(make([]byte, 31), 4); !errors.Is(err, ErrInvalid) {
		t.Fatal("short master key accepted")
	}
	if _, err := NewKeyCache(testMaster, 0); !errors.Is(err, ErrInvalid) {
		t.Fatal("empty cache accepted")
	}
	kc, err := NewKeyCache(testMaster, 2)
	if err != nil {
		t.Fatal(err)
	}
	salts := [][]byte{bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{1}, 16)}
	for _, round := range []string{"first", "again"} {
		for i, salt := range salts {
			want, err := DeriveKey(testMaster, salt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kc.Derive(salt)
			if err != nil || got != want {
				t.Fatalf("%s round, salt %d: cached key differs from DeriveKey (err %v)", round, i, err)
			}
		}
	}
	if _, err := kc.Derive(make([]byte, 15)); !errors.Is(err, ErrInvalid) {
		t.Fatal("short salt accepted")
	}
	if kc.keys.Len() != 2 {
		t.Fatalf("cache holds %d keys, bound 2", kc.keys.Len())
	}
}

// TestSharedCoderConcurrent decodes with reconstruction from many
// goroutines at once: the Reed-Solomon coder is shared by every decoder
// of a shape (go test -race checks it).
func TestSharedCoderConcurrent(t *testing.T) {
	l, err := PlanLayout(300<<10, Redundancy{K: 4, M: 2}, DefaultChunkSize, DefaultMaxUnit)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, l.Size)
	rand.New(rand.NewSource(3)).Read(data)
	shards, _, err := EncodeBytes(l, testKey(t), data)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			in := make([][]byte, len(shards))
			copy(in, shards)
			in[g%4], in[(g+1)%6] = nil, nil // lose different shards each
			out, err := DecodeBytes(l, testKey(t), in, nil)
			if err == nil && !bytes.Equal(out, data) {
				err = errors.New("decoded bytes differ")
			}
			errs <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// DecodeRangeTo decodes into the caller's buffer when it has room, and
// into its own otherwise, with the same result as DecodeRange; pooled
// reconstruction buffers never leak into the caller's shards.
func TestDecodeRangeTo(t *testing.T) {
	key := testKey(t)
	data := payload(100_000)
	l, err := PlanLayout(int64(len(data)), Redundancy{K: 4, M: 2}, 1000, 2048)
	if err != nil {
		t.Fatal(err)
	}
	shards, _, err := EncodeBytes(l, key, data)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(l, key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		off, n    int64
		missing   int   // data shard left out (-1: none)
		room      int64 // dst capacity beyond PlainLen (negative: short)
		wantAlias bool
	}{
		{"whole, room", 0, 100_000, -1, 0, true},
		{"whole, reconstructed, room", 0, 100_000, 2, 10, true},
		{"range, reconstructed, room", 1500, 3000, 0, 0, true},
		{"short buffer", 0, 100_000, -1, -1, false},
		{"no buffer, reconstructed", 999, 2, 3, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := l.PlanRange(tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			in := make([][]byte, len(shards))
			for i, s := range shards {
				in[i] = s[p.ShardOff : p.ShardOff+p.ShardLen]
			}
			if tc.missing >= 0 {
				in[tc.missing] = nil
			}
			var dst []byte
			if tc.wantAlias || tc.room < 0 {
				dst = make([]byte, 0, dec.PlainLen(p)+tc.room)
			}
			for range 3 { // pooled buffers are reused across calls
				got, err := dec.DecodeRangeTo(dst, p, in)
				if err != nil || !bytes.Equal(got, data[tc.off:tc.off+tc.n]) {
					t.Fatalf("decoded %d bytes: %v", len(got), err)
				}
				clear(dst[:cap(dst)]) // zeroes got too when it lives in dst
				aliased := !bytes.Equal(got, data[tc.off:tc.off+tc.n])
				if aliased != tc.wantAlias {
					t.Fatalf("result in dst: %v, want %v", aliased, tc.wantAlias)
				}
				if tc.missing >= 0 && in[tc.missing] != nil {
					t.Fatal("the caller's missing shard was filled")
				}
			}
		})
	}
}

// TestNoShardSharedAcrossObjects: agents store and delete shards by hash,
// so two objects must never produce a shard with the same bytes, not even
// the data shards of a small object that hold only padding.
func TestNoShardSharedAcrossObjects(t *testing.T) {
	for _, size := range []int{0, 1, 100, 600, 5000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			l, err := PlanLayout(int64(size), Redundancy{K: 4, M: 2}, 1024, 8192)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[Hash]int{}
			for obj := range 3 {
				key, err := DeriveKey(testMaster, bytes.Repeat([]byte{byte(obj + 1)}, 16))
				if err != nil {
					t.Fatal(err)
				}
				shards, res, err := EncodeBytes(l, key, payload(size))
				if err != nil {
					t.Fatal(err)
				}
				for i, h := range res.ShardHashes {
					if prev, ok := seen[h]; ok && prev != obj {
						t.Fatalf("object %d shard %d has the hash of a shard of object %d", obj, i, prev)
					}
					seen[h] = obj
				}
				got, err := DecodeBytes(l, key, shards, res.ShardHashes)
				if err != nil || !bytes.Equal(got, payload(size)) {
					t.Fatalf("round trip: %v", err)
				}
			}
		})
	}
}
