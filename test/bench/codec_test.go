//go:build bench

package bench

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/codec"
	"github.com/klauspost/reedsolomon"
)

// TestCodecDecode measures the decode the gateway runs for a whole object
// (gateway/content: readRange and readWhole) against the sum of its raw
// steps, each timed alone on the same data:
//
//   - serve decode: the object key from the gateway's key cache
//     (codec.KeyCache: HKDF once per object, as the gateway derives it),
//     the decoder set-up (AES-GCM; the Reed-Solomon coder is shared per
//     shape), Reed-Solomon reconstruction when data shards are missing,
//     AES-256-GCM open of every chunk into the caller's (pooled) buffer,
//     and the SHA-256 check of the content. The shards are not hashed:
//     the gateway relies on AES-GCM's authentication of every chunk and
//     hashes whole shards only after a decode failed, to find the bad one;
//   - raw steps: klauspost/reedsolomon ReconstructData of the same shards;
//     AES-256-GCM open (crypto/cipher) of as many chunks of the same
//     sizes; SHA-256 of the content.
//
// Both run on one core (GOMAXPROCS=1; the decoder otherwise spreads large
// objects' chunks over both cores), so the ratio compares CPU work; each is
// the least time per call over 7 interleaved rounds (see minTimes).
// Target (issue 10): serve decode ≥ 80 % of the raw steps' throughput.
func TestCodecDecode(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	master := bytes.Repeat([]byte{7}, 32)
	salt := bytes.Repeat([]byte{9}, 16)
	fmt.Printf("\nCodec decode on one core, k=4 m=2, %d KiB chunks (load average %s):\n", codec.DefaultChunkSize>>10, loadAvg())
	for _, size := range []int{100 << 10, 4 << 20, 16 << 20} {
		l, err := codec.PlanLayout(int64(size), codec.Redundancy{K: 4, M: 2}, codec.DefaultChunkSize, codec.DefaultMaxUnit)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, size)
		rand.New(rand.NewSource(int64(size))).Read(data)
		keys, err := codec.NewKeyCache(master, 16)
		if err != nil {
			t.Fatal(err)
		}
		key, err := codec.DeriveKey(master, salt)
		if err != nil {
			t.Fatal(err)
		}
		shards, res, err := codec.EncodeBytes(l, key, data)
		if err != nil {
			t.Fatal(err)
		}
		want := res.SHA256Hex()
		for _, lost := range []int{0, 2} {
			// The k shards a read takes: the data shards, or with lost
			// data shards the parity ones in their place.
			in := make([][]byte, len(shards))
			for i := lost; i < l.K+lost; i++ {
				in[i] = shards[i]
			}
			dst := make([]byte, 0, l.Size+int64(codec.DefaultChunkSize)) // the gateway's pooled output buffer
			serve := func() {
				k, err := keys.Derive(salt)
				if err != nil {
					panic(err)
				}
				dec, err := codec.NewDecoder(l, k)
				if err != nil {
					panic(err)
				}
				p, err := l.PlanRange(0, l.Size)
				if err != nil {
					panic(err)
				}
				out, err := dec.DecodeRangeTo(dst, p, in)
				if err != nil {
					panic(err)
				}
				if sum := sha256.Sum256(out); hex.EncodeToString(sum[:]) != want {
					panic("content hash")
				}
			}
			rs, err := reedsolomon.New(l.K, l.M)
			if err != nil {
				t.Fatal(err)
			}
			work := make([][]byte, len(in))
			reconstruct := func() {
				copy(work, in)
				if err := rs.ReconstructData(work); err != nil {
					panic(err)
				}
			}
			aead, sealed := rawSealedChunks(t, data, int(codec.DefaultChunkSize))
			plain := make([]byte, 0, codec.DefaultChunkSize)
			open := func() {
				for c, s := range sealed {
					var nonce [12]byte
					binary.BigEndian.PutUint64(nonce[4:], uint64(c))
					if _, err := aead.Open(plain[:0], nonce[:], s, nil); err != nil {
						panic(err)
					}
				}
			}
			contentHash := func() { sha256.Sum256(data) }

			type step struct {
				name string
				f    func()
				ns   float64
			}
			var steps []*step
			if lost > 0 {
				steps = append(steps, &step{name: "Reed-Solomon ReconstructData", f: reconstruct})
			}
			steps = append(steps, &step{name: "AES-256-GCM open", f: open}, &step{name: "SHA-256 of the content", f: contentHash})
			fs := []func(){serve}
			for _, s := range steps {
				fs = append(fs, s.f)
			}
			times := minTimes(fs, 7, 50*time.Millisecond)
			serveT := times[0]
			for i, s := range steps {
				s.ns = times[i+1]
			}
			var raw float64
			for _, s := range steps {
				raw += s.ns
			}
			mbps := func(ns float64) float64 { return float64(size) / ns * 1e3 } // MB/s
			label := fmt.Sprintf("codec decode %s, %d data shards lost", sizeLabel(size), lost)
			for _, s := range steps {
				report(t, label+": raw "+s.name, "", fmt.Sprintf("%.0f MB/s (%s)", mbps(s.ns), time.Duration(s.ns).Round(time.Microsecond)), Info)
			}
			report(t, label+": sum of the raw steps", "", fmt.Sprintf("%.0f MB/s (%s)", mbps(raw), time.Duration(raw).Round(time.Microsecond)), Info)
			ratio := raw / serveT
			report(t, label+": the gateway's decode with verification", "≥ 80 % of the raw sum", fmt.Sprintf("%.0f MB/s (%s) = %.0f %%", mbps(serveT), time.Duration(serveT).Round(time.Microsecond), 100*ratio), VerdictOf(ratio >= 0.8))
		}
	}
}

// rawSealedChunks seals data in chunks of chunkSize with AES-256-GCM under
// a fresh key, as the codec does (a nonce per chunk), for the raw open.
func rawSealedChunks(t *testing.T, data []byte, chunkSize int) (cipher.AEAD, [][]byte) {
	t.Helper()
	block, err := aes.NewCipher(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for c, off := 0, 0; off < len(data); c, off = c+1, off+chunkSize {
		var nonce [12]byte
		binary.BigEndian.PutUint64(nonce[4:], uint64(c))
		out = append(out, aead.Seal(nil, nonce[:], data[off:min(off+chunkSize, len(data))], nil))
	}
	return aead, out
}

// minTimes times each of fs in rounds, interleaved (round r runs every f
// for about per, then the next round), and returns each f's least time
// per call over the rounds in nanoseconds: on a machine shared with other
// work, the least time is the one least disturbed, and interleaving
// exposes every f to the same drift.
func minTimes(fs []func(), rounds int, per time.Duration) []float64 {
	n := make([]int, len(fs))
	for i, f := range fs {
		start := time.Now()
		f()
		n[i] = max(1, int(per/max(time.Since(start), time.Microsecond)))
	}
	best := make([]float64, len(fs))
	for r := 0; r < rounds; r++ {
		for i, f := range fs {
			start := time.Now()
			for j := 0; j < n[i]; j++ {
				f()
			}
			if ns := float64(time.Since(start).Nanoseconds()) / float64(n[i]); r == 0 || ns < best[i] {
				best[i] = ns
			}
		}
	}
	return best
}

func sizeLabel(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
