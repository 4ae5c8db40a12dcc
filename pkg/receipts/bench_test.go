package receipts

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkIssue: receipts signed and appended to the log (group commit
// every 5ms, real fsyncs), from parallel callers.
func BenchmarkIssue(b *testing.B) {
	w, err := OpenWAL(b.TempDir(), WALOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	is, err := NewIssuer(w, testIdentity(b), time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	d := delivery(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := is.Issue(context.Background(), d); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	w.Flush()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receipts/s")
}

// BenchmarkBuildBatch1M: the batch of 1M receipts read from the log
// (tree, root, totals).
func BenchmarkBuildBatch1M(b *testing.B) {
	if testing.Short() {
		b.Skip("short")
	}
	const n = 1 << 20
	w, err := OpenWAL(b.TempDir(), WALOptions{Ticker: manualTicker, FlushRecords: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	is, _ := NewIssuer(w, testIdentity(b), time.Hour, nil)
	// Sign once, append the same entry with distinct serials: the batch
	// build reads and hashes, it does not verify signatures.
	r, err := is.Issue(context.Background(), delivery(1))
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < n; i++ {
		c := *r
		c.Serial = r.Serial + "x" + itoa(i)
		c.Node = delivery(i).Node
		if err := w.Append(r.Epoch, encodeEntry(delivery(i).Publisher, c.Node, c.Bytes, c.LeafData())); err != nil {
			b.Fatal(err)
		}
	}
	w.Seal(r.Epoch)
	b.ResetTimer()
	var bt *Batch
	for range b.N {
		if bt, err = BuildBatch(w, r.Epoch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if bt.Size() != n {
		b.Fatalf("size %d", bt.Size())
	}
	b.Run("Samples", func(b *testing.B) {
		for i := range b.N {
			if _, err := bt.Samples(itoa(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Proof", func(b *testing.B) {
		for i := range b.N {
			if _, err := bt.Tree.Proof(uint64(i*7919) % n); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTree1M: the tree and root over 1M leaf hashes alone.
func BenchmarkTree1M(b *testing.B) {
	const n = 1 << 20
	leaves := make([]byte, 0, n*32)
	for i := range n {
		h := sha256.Sum256([]byte(itoa(i)))
		leaves = append(leaves, h[:]...)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := NewTree(leaves).Root(); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// BenchmarkAppend: the log alone (framing, group commit, fsync), without
// signing.
func BenchmarkAppend(b *testing.B) {
	w, err := OpenWAL(b.TempDir(), WALOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	p := make([]byte, 700)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.Append(1, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	w.Flush()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
