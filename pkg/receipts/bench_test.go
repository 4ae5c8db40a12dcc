package receipts

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIssue: receipts issued into the log (built, appended, sealed
// once per group commit every 50ms or 4,096 records, with real fsyncs),
// from parallel callers: 1 per GOMAXPROCS (-cpu 2: two callers) and 8 per
// GOMAXPROCS (many request handlers at once).
func BenchmarkIssue(b *testing.B) {
	for _, per := range []int{1, 8} {
		b.Run(fmt.Sprintf("callers=%dxGOMAXPROCS", per), func(b *testing.B) {
			w, err := OpenWAL(b.TempDir(), WALOptions{Sealer: testIdentity(b)})
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
			b.SetParallelism(per)
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := is.Issue(context.Background(), d); err != nil {
						b.Error(err)
						return
					}
				}
			})
			w.Flush() // the last group is durable: part of the cost
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receipts/s")
			// CPU time per receipt (user + system, all threads): what two idle
			// cores would sustain, on a machine shared with other work.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(2*float64(b.N)/cpu.Seconds(), "receipts/s-on-2-idle-cores")
		})
	}
}

// million is a log holding one epoch of 1M receipts, built once for the
// batch benchmarks.
var million struct {
	once  sync.Once
	wal   *WAL
	epoch int64
	err   error
}

const millionSize = 1 << 20

func millionLog(b *testing.B) (*WAL, int64) {
	b.Helper()
	million.once.Do(func() {
		dir, err := os.MkdirTemp("", "receipts-bench-")
		if err != nil {
			million.err = err
			return
		}
		w, err := OpenWAL(dir, WALOptions{Sealer: testIdentity(b), Ticker: manualTicker})
		if err != nil {
			million.err = err
			return
		}
		is, err := NewIssuer(w, testIdentity(b), time.Hour, func() time.Time { return t0 })
		if err != nil {
			million.err = err
			return
		}
		for i := range millionSize {
			if _, err := is.Issue(context.Background(), delivery(i)); err != nil {
				million.err = err
				return
			}
		}
		million.wal, million.epoch, million.err = w, is.Epoch(t0), w.CloseEpochs(is.Epoch(t0))
	})
	if million.err != nil {
		b.Fatal(million.err)
	}
	return million.wal, million.epoch
}

// BenchmarkBuildBatch1M: the batch of 1M receipts from the log: read,
// leaf hashes, tree, root, totals.
func BenchmarkBuildBatch1M(b *testing.B) {
	w, epoch := millionLog(b)
	b.ResetTimer()
	for range b.N {
		bt, err := BuildBatch(w, epoch)
		if err != nil || bt.Size() != millionSize {
			b.Fatal(err)
		}
	}
}

// BenchmarkSamples1M: the samples of a 1M batch (36 receipts read back
// with their seals, group proofs and batch proofs), and one inclusion
// proof.
func BenchmarkSamples1M(b *testing.B) {
	w, epoch := millionLog(b)
	bt, err := BuildBatch(w, epoch)
	if err != nil {
		b.Fatal(err)
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
			if _, err := bt.Tree.Proof(uint64(i*7919) % millionSize); err != nil {
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

// BenchmarkAppend: the log alone (framing, group commit every 50ms or
// 4,096 records with its seal, fsync), without building receipts.
func BenchmarkAppend(b *testing.B) {
	w, err := OpenWAL(b.TempDir(), WALOptions{Sealer: testIdentity(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	p := make([]byte, 700)
	h := sha256.Sum256(p)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.Append(1, p, h[:]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	w.Flush()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if million.wal != nil {
		million.wal.Close()
		os.RemoveAll(million.wal.Dir())
	}
	os.Exit(code)
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGroupCommit: one group commit (the seal's tree and signature,
// the write, the fsync) of a group of 1 or 64 receipts, and its CPU time.
func BenchmarkGroupCommit(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("receipts=%d", n), func(b *testing.B) {
			w, err := OpenWAL(b.TempDir(), WALOptions{Sealer: testIdentity(b), Ticker: manualTicker, FlushRecords: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			is, err := NewIssuer(w, testIdentity(b), time.Hour, nil)
			if err != nil {
				b.Fatal(err)
			}
			var commit time.Duration
			for i := range b.N {
				for j := range n {
					if _, err := is.Issue(context.Background(), delivery(i+j)); err != nil {
						b.Fatal(err)
					}
				}
				cpu0 := cpuTime()
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
				commit += cpuTime() - cpu0
			}
			b.ReportMetric(float64(commit.Microseconds())/float64(b.N), "cpu-µs/commit")
		})
	}
}
