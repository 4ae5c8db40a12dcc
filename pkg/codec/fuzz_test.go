package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
)

// FuzzParseHash: hashes arrive from manifests and agents.
func FuzzParseHash(f *testing.F) {
	f.Add(HashShard(nil).String())
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err == nil && h.String() != s {
			t.Fatalf("ParseHash(%q) round-trips to %q", s, h)
		}
	})
}

// FuzzLayoutFromManifest: manifests come from the ledger, written by any
// member. A layout that passes must plan every range inside its shards.
func FuzzLayoutFromManifest(f *testing.F) {
	l, _ := PlanLayout(1000, Redundancy{K: 4, M: 2}, 256, 1024)
	_, res, _ := EncodeBytes(l, mustKey(), payload(1000))
	m := BuildManifest("a/b.css", "1", "text/css", l, res, "kid", bytes.Repeat([]byte{1}, 16), [][]string{{"n0"}, {"n1"}, {"n2"}, {"n3"}, {"n4"}, {"n5"}})
	seed, _ := json.Marshal(m)
	f.Add(seed, int64(10), int64(100))
	f.Add([]byte(`{"size":0,"k":1,"m":0,"stripeUnit":1,"encryption":{"scheme":"aes-256-gcm-chunked/v1","chunkSize":1},"shards":[{"index":0,"size":1,"hash":"`+HashShard(nil).String()+`"}]}`), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, raw []byte, off, n int64) {
		var m records.Manifest
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		l, err := LayoutFromManifest(&m)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		p, err := l.PlanRange(off, n)
		if err != nil {
			return
		}
		if p.ShardOff < 0 || p.ShardLen < l.Unit || p.ShardOff+p.ShardLen > l.ShardSize() || p.ShardLen%l.Unit != 0 {
			t.Fatalf("plan %+v outside %s", p, l)
		}
	})
}

// FuzzDecodeRange: shard bytes come from edge agents and are untrusted. Any
// corruption must decode to the original bytes or fail with ErrCorrupt,
// never panic and never return other bytes.
func FuzzDecodeRange(f *testing.F) {
	const size = 5000
	data := payload(size)
	l, _ := PlanLayout(size, Redundancy{K: 3, M: 2}, 700, 1024)
	key := mustKey()
	shards, _, _ := EncodeBytes(l, key, data)
	dec, _ := NewDecoder(l, key)
	f.Add(uint8(0), uint16(0), []byte{1}, int64(0), int64(size), uint8(0))
	f.Add(uint8(4), uint16(100), []byte{0xff, 0xff}, int64(1000), int64(50), uint8(1))
	f.Add(uint8(1), uint16(3), []byte{}, int64(4999), int64(1), uint8(3))
	f.Fuzz(func(t *testing.T, shard uint8, pos uint16, flip []byte, off, n int64, drop uint8) {
		p, err := l.PlanRange(off, n)
		if err != nil {
			return
		}
		in := make([][]byte, len(shards))
		for i, s := range shards {
			in[i] = bytes.Clone(s[p.ShardOff : p.ShardOff+p.ShardLen])
		}
		target := int(shard) % len(in)
		for j, b := range flip {
			if k := int(pos) + j; k < len(in[target]) {
				in[target][k] ^= b
			}
		}
		if d := int(drop) % (len(in) + 1); d < len(in) && d != target {
			in[d] = nil
		}
		got, err := dec.DecodeRange(p, in)
		switch {
		case err == nil:
			if !bytes.Equal(got, data[off:off+n]) {
				t.Fatalf("corrupt shards decoded to other bytes")
			}
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrTooFewShards):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func mustKey() Key {
	k, err := DeriveKey(testMaster, bytes.Repeat([]byte{1}, 16))
	if err != nil {
		panic(err)
	}
	return k
}
