package codec

import (
	"fmt"
	"testing"

	"github.com/klauspost/reedsolomon"
)

// The encode and decode benchmarks run the codec and raw reedsolomon with
// the same k, m and shard size, so their MB/s compare directly:
//
//	go test -run XXX -bench 'Encode|Decode|Tiny' -benchmem ./pkg/codec/
const benchSize = 16 << 20

func benchLayout(b *testing.B, size int64) Layout {
	l, err := PlanLayout(size, Redundancy{K: 4, M: 2}, DefaultChunkSize, DefaultMaxUnit)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

func rawShards(l Layout) [][]byte {
	s := make([][]byte, l.K+l.M)
	for i := range s {
		s[i] = make([]byte, l.ShardSize())
	}
	return s
}

func BenchmarkEncode(b *testing.B) {
	l := benchLayout(b, benchSize)
	data := payload(benchSize)
	key := mustKey()
	b.Run("dct", func(b *testing.B) {
		b.SetBytes(benchSize)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e, err := NewEncoder(l, key, func(int64, [][]byte) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			e.Write(data)
			if _, err := e.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-rs", func(b *testing.B) {
		rs, _ := reedsolomon.New(l.K, l.M)
		shards := rawShards(l)
		b.SetBytes(benchSize)
		for i := 0; i < b.N; i++ {
			if err := rs.Encode(shards); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	l := benchLayout(b, benchSize)
	data := payload(benchSize)
	key := mustKey()
	shards, _, err := EncodeBytes(l, key, data)
	if err != nil {
		b.Fatal(err)
	}
	dec, _ := NewDecoder(l, key)
	p, _ := l.PlanRange(0, l.Size)
	for _, lost := range []int{0, 2} {
		b.Run(fmt.Sprintf("dct/lost=%d", lost), func(b *testing.B) {
			in := append([][]byte(nil), shards...)
			for j := 0; j < lost; j++ {
				in[j] = nil
			}
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := dec.DecodeRange(p, in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("raw-rs/lost=%d", lost), func(b *testing.B) {
			rs, _ := reedsolomon.New(l.K, l.M)
			src := rawShards(l)
			rs.Encode(src)
			in := make([][]byte, len(src))
			b.SetBytes(benchSize)
			for i := 0; i < b.N; i++ {
				copy(in, src)
				for j := 0; j < lost; j++ {
					in[j] = in[j][:0]
				}
				if err := rs.ReconstructData(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTinyObject justifies sizing the unit per object: a 600-byte
// stylesheet encoded and decoded with a unit fitted to it versus a fixed
// maximum-size unit (zero padding up to K*unit).
func BenchmarkTinyObject(b *testing.B) {
	data := payload(600)
	key := mustKey()
	fitted := benchLayout(b, 600)
	fixed := fitted
	fixed.Unit = DefaultMaxUnit
	for _, c := range []struct {
		name string
		l    Layout
	}{{"fitted-unit", fitted}, {"fixed-256KiB-unit", fixed}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(c.l.StoredSize()), "stored-B")
			for i := 0; i < b.N; i++ {
				shards, _, err := EncodeBytes(c.l, key, data)
				if err != nil {
					b.Fatal(err)
				}
				shards[0] = nil
				if _, err := DecodeBytes(c.l, key, shards, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
