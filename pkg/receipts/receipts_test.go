package receipts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/transparency-dev/merkle/proof"
)

var t0 = time.Unix(6000, 0) // epoch 100 of 60s

func newIssuer(t testing.TB, w *WAL, clk *fakeClock) (*Issuer, Identity) {
	t.Helper()
	id := testIdentity(t)
	is, err := NewIssuer(w, id, time.Minute, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return is, id
}

// logged reads every sealed receipt of the log in dir.
func logged(t *testing.T, dir string) []Logged {
	t.Helper()
	var out []Logged
	if err := ReadDir(dir, func(l Logged) error { out = append(out, l); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIssueSealVerify(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, id := newIssuer(t, w, clk)
	r, err := is.Issue(context.Background(), delivery(1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Epoch != 100 || r.GatewayMSP != "Org1MSP" || r.Gateway != records.CertHash(id.Cert) {
		t.Fatalf("receipt %+v", r)
	}
	if got := logged(t, dir); len(got) != 0 {
		t.Fatalf("%d receipts readable before their group is sealed", len(got))
	}
	r2, _ := is.Issue(context.Background(), delivery(1))
	if r2.Serial == r.Serial {
		t.Fatal("serials repeat")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := logged(t, dir)
	if len(got) != 2 || got[0].Receipt != *r || got[1].Receipt != *r2 {
		t.Fatalf("logged %+v", got)
	}
	for i, l := range got {
		if l.Seal.Size != 2 || l.Seal.Group != 0 || l.Seal.Epoch != 100 || l.GroupIndex != int64(i) {
			t.Fatalf("receipt %d: seal %+v, index %d", i, l.Seal, l.GroupIndex)
		}
		if err := VerifySealed(&l.SealedReceipt, id.Cert); err != nil {
			t.Fatal(err)
		}
	}
	tampered := got[0].SealedReceipt
	tampered.Receipt.Bytes++
	if err := VerifySealed(&tampered, id.Cert); err == nil {
		t.Fatal("a tampered receipt verifies")
	}
	if err := VerifySealed(&got[0].SealedReceipt, otherIdentity(t).Cert); err == nil {
		t.Fatal("another gateway's certificate verifies")
	}
	bad := delivery(1)
	bad.ShardHash = "nothex"
	if _, err := is.Issue(context.Background(), bad); err == nil {
		t.Fatal("an invalid delivery got a receipt")
	}
	if _, err := NewIssuer(w, otherIdentity(t), time.Minute, nil); err == nil {
		t.Fatal("an issuer with another identity than the log's sealer")
	}
	if _, err := OpenWAL(t.TempDir(), WALOptions{}); err == nil {
		t.Fatal("a log without a sealer")
	}
}

// TestGroupsBounded: a flush of more than records.MaxGroupReceipts
// records seals them in groups of at most that many, numbered on across
// flushes and reopenings.
func TestGroupsBounded(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	is, id := newIssuer(t, w, &fakeClock{t: t0})
	n := 2*records.MaxGroupReceipts + 5
	for i := range n {
		if _, err := is.Issue(context.Background(), delivery(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	is.Issue(context.Background(), delivery(0))
	w.Close()
	w2 := openTestWAL(t, dir)
	is2, _ := newIssuer(t, w2, &fakeClock{t: t0})
	is2.Issue(context.Background(), delivery(1))
	w2.Flush()
	sizes := map[int64]int64{}
	for _, l := range logged(t, dir) {
		if l.Seal.Size > records.MaxGroupReceipts {
			t.Fatalf("a seal over %d receipts", l.Seal.Size)
		}
		sizes[l.Seal.Group] = l.Seal.Size
		if l.GroupIndex == l.Seal.Size-1 || l.GroupIndex == 0 {
			if err := VerifySealed(&l.SealedReceipt, id.Cert); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(sizes) != fmt.Sprint(map[int64]int64{0: 4096, 1: 4096, 2: 5, 3: 1, 4: 1}) {
		t.Fatalf("groups %v", sizes)
	}
	w2.CloseEpochs(100)
	b, err := BuildBatch(w2, 100)
	if err != nil || b.Size() != int64(n+2) || b.Groups() != 5 {
		t.Fatalf("batch: %v, %+v", err, b)
	}
	for _, i := range []int64{0, 4095, 4096, int64(n - 1), int64(n), int64(n + 1)} {
		sr, err := b.Sealed(i)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := b.Proof(i)
		if err := VerifyReceipt(sr, p, b.Root, b.Size(), i, id.Cert); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
}

func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWAL(dir, WALOptions{Sealer: testIdentity(t), Ticker: manualTicker, FlushRecords: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	is, _ := newIssuer(t, w, &fakeClock{t: t0})
	for i := range 9 {
		synced := w.Synced()
		if _, err := is.Issue(context.Background(), delivery(i)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-synced:
			t.Fatalf("flushed after %d records", i+1)
		default:
		}
	}
	if w.Durable(100) != 0 {
		t.Fatal("records durable before a flush")
	}
	synced := w.Synced()
	is.Issue(context.Background(), delivery(9)) // the 10th: a flush
	<-synced
	n := 0
	w.Records(100, func(int64, []byte) error { n++; return nil })
	if n != 10 {
		t.Fatalf("%d durable records, want 10", n)
	}
	// One seal for the ten.
	got := logged(t, dir)
	if len(got) != 10 || got[0].Seal.Size != 10 || got[9].Seal.Signature == nil || string(got[0].Seal.Signature) != string(got[9].Seal.Signature) {
		t.Fatalf("%d receipts, seal %+v", len(got), got[0].Seal)
	}
}

func TestTickerFlush(t *testing.T) {
	tick := make(chan time.Time)
	w, err := OpenWAL(t.TempDir(), WALOptions{Sealer: testIdentity(t), Ticker: func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	is, _ := newIssuer(t, w, &fakeClock{t: t0})
	is.Issue(context.Background(), delivery(0))
	synced := w.Synced()
	tick <- time.Now()
	<-synced
	if w.Durable(100) == 0 {
		t.Fatal("a tick did not flush")
	}
}

// TestIdleFlush: without a Ticker, the first record after a flush arms
// a FlushInterval timer (an idle log has no ticker): every record is
// flushed within about FlushInterval, also after an idle spell.
func TestIdleFlush(t *testing.T) {
	w, err := OpenWAL(t.TempDir(), WALOptions{Sealer: testIdentity(t), FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	is, _ := newIssuer(t, w, &fakeClock{t: t0})
	var last int64
	for i := 0; i < 3; i++ {
		synced := w.Synced()
		start := time.Now()
		is.Issue(context.Background(), delivery(i))
		select {
		case <-synced:
		case <-time.After(5 * time.Second):
			t.Fatalf("record %d not flushed within 5s of a 20ms flush interval", i)
		}
		if d := w.Durable(100); d <= last {
			t.Fatalf("record %d: durable bytes %d, before %d", i, d, last)
		} else {
			last = d
		}
		t.Logf("record %d flushed after %s", i, time.Since(start))
		time.Sleep(30 * time.Millisecond) // idle: no ticker runs
	}
}

func count(t *testing.T, w *WAL, epoch int64) (n int, serials map[string]bool) {
	serials = map[string]bool{}
	err := w.Records(epoch, func(_ int64, p []byte) error {
		e, err := decodeEntry(p)
		if err != nil {
			return err
		}
		r := entryReceipt(t, e)
		if serials[r.Serial] {
			t.Fatalf("serial %s twice", r.Serial)
		}
		serials[r.Serial] = true
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, serials
}

func entryReceipt(t *testing.T, e entry) *records.Receipt {
	var r records.Receipt
	if err := jsonUnmarshal(e.leaf, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// lastFrame is the offset of the last intact record of the segment.
func lastFrame(t *testing.T, path string) int64 {
	var last int64 = -1
	if _, err := scanSegment(path, func(off int64, _ []byte) error { last = off; return nil }); err != nil {
		t.Fatal(err)
	}
	return last
}

// TestReplayTornTail: a log of two groups of five receipts (two flushes)
// harmed at its end reopens with the groups whose seal is intact, and
// new records follow them.
func TestReplayTornTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(t *testing.T, path string, size int64)
		keep int
	}{
		{"torn seal", func(_ *testing.T, p string, n int64) { os.Truncate(p, n-5) }, 5},
		{"group without its seal", func(t *testing.T, p string, _ int64) { os.Truncate(p, lastFrame(t, p)) }, 5},
		{"half a group without its seal", func(t *testing.T, p string, _ int64) {
			os.Truncate(p, lastFrame(t, p))
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-700)
		}, 5},
		{"torn header", func(_ *testing.T, p string, n int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{0, 0, 1})
			f.Close()
		}, 10},
		{"corrupt seal", func(t *testing.T, p string, n int64) { flipByte(t, p, n-3) }, 5},
		{"corrupt receipt of the last group", func(t *testing.T, p string, _ int64) { flipByte(t, p, lastFrame(t, p)-3) }, 5},
		{"zero-filled tail", func(_ *testing.T, p string, n int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := openTestWAL(t, dir)
			is, _ := newIssuer(t, w, &fakeClock{t: t0})
			for i := range 10 {
				is.Issue(context.Background(), delivery(i))
				if i == 4 {
					w.Flush()
				}
			}
			w.Close()
			path := filepath.Join(dir, segmentName(100))
			st, _ := os.Stat(path)
			tc.harm(t, path, st.Size())

			w2 := openTestWAL(t, dir)
			n, before := count(t, w2, 100)
			if n != tc.keep || len(logged(t, dir)) != tc.keep {
				t.Fatalf("replayed %d records, want %d", n, tc.keep)
			}
			// New records follow the intact ones; nothing repeats.
			is2, id := newIssuer(t, w2, &fakeClock{t: t0})
			for i := range 3 {
				is2.Issue(context.Background(), delivery(i))
			}
			w2.Flush()
			w2.Close()
			w3 := openTestWAL(t, dir)
			n, after := count(t, w3, 100)
			if n != tc.keep+3 {
				t.Fatalf("after appending: %d records, want %d", n, tc.keep+3)
			}
			for s := range before {
				if !after[s] {
					t.Fatalf("lost %s", s)
				}
			}
			for _, l := range logged(t, dir) {
				if err := VerifySealed(&l.SealedReceipt, id.Cert); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// flipByte inverts the bits of the byte at off in file p: unlike writing
// a fixed byte, it always changes the file.
func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestSegmentsPerEpochAndSeal(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, _ := newIssuer(t, w, clk)
	is.Issue(context.Background(), delivery(0))
	clk.Set(t0.Add(time.Minute))
	is.Issue(context.Background(), delivery(1))
	if err := w.CloseEpochs(101); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0) // a clock that went back: the receipt goes to epoch 102
	r, _ := is.Issue(context.Background(), delivery(2))
	if r.Epoch != 102 {
		t.Fatalf("receipt after the seal in epoch %d", r.Epoch)
	}
	w.Flush()
	epochs, _ := w.Epochs()
	if fmt.Sprint(epochs) != "[100 101 102]" {
		t.Fatalf("segments %v", epochs)
	}
}

func buildTestBatch(t testing.TB, n int) (*WAL, *Batch, Identity) {
	w := openTestWAL(t, t.TempDir())
	is, id := newIssuer(t, w, &fakeClock{t: t0})
	for i := range n {
		if _, err := is.Issue(context.Background(), delivery(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.CloseEpochs(100)
	b, err := BuildBatch(w, 100)
	if err != nil {
		t.Fatal(err)
	}
	return w, b, id
}

func TestBatchTotalsSamplesProofs(t *testing.T) {
	const n = 37
	_, b, id := buildTestBatch(t, n)
	if b.Size() != n {
		t.Fatalf("size %d", b.Size())
	}
	in := b.Input()
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{}
	for i := range n {
		d := delivery(i)
		k := d.Node + "/" + d.Publisher
		v := want[k]
		want[k] = [2]int64{v[0] + 1, v[1] + d.Bytes}
	}
	if len(in.Totals) != len(want) {
		t.Fatalf("totals %+v", in.Totals)
	}
	for _, tt := range in.Totals {
		if w := want[tt.Node+"/"+tt.Publisher]; w != [2]int64{tt.Receipts, tt.Bytes} {
			t.Fatalf("total %+v, want %v", tt, w)
		}
	}
	// The root is the RFC 6962 root over the leaves in log order
	// (recomputed naively here).
	var leaves [][]byte
	for i := range n {
		r, err := b.Receipt(int64(i))
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, records.LeafHash(r.LeafData()))
	}
	if got := hex.EncodeToString(naiveRoot(leaves)); got != b.Root {
		t.Fatalf("root %s, want %s", b.Root, got)
	}
	samples, err := b.Samples("tx-1234")
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != records.Samples(n) {
		t.Fatalf("%d samples", len(samples))
	}
	for j, s := range samples {
		if s.Index != records.SampleIndices("tx-1234", n)[j] {
			t.Fatal("samples out of order")
		}
		if err := VerifyReceipt(&s.SealedReceipt, s.Proof, b.Root, n, s.Index, id.Cert); err != nil {
			t.Fatalf("sample %d: %v", s.Index, err)
		}
		if err := VerifyReceipt(&s.SealedReceipt, s.Proof, b.Root, n, (s.Index+1)%n, id.Cert); err == nil {
			t.Fatalf("sample %d verifies at another index", s.Index)
		}
		if err := VerifyReceipt(&s.SealedReceipt, s.Proof, b.Root, n, s.Index, otherIdentity(t).Cert); err == nil {
			t.Fatalf("sample %d verifies with another gateway's certificate", s.Index)
		}
	}
	in.Samples = samples
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
}

// Every proof of trees of every size up to 70 verifies with
// records.VerifyInclusion and with the library's verifier.
func TestTreeProofsCrossCheck(t *testing.T) {
	var flat []byte
	var leaves [][]byte
	for n := 1; n <= 70; n++ {
		h := records.LeafHash([]byte(fmt.Sprint("leaf", n)))
		flat = append(flat, h...)
		leaves = append(leaves, h)
		tr := NewTree(append([]byte(nil), flat...))
		root, err := tr.Root()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root, naiveRoot(leaves)) {
			t.Fatalf("size %d: root differs", n)
		}
		for i := range n {
			p, err := tr.Proof(uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			if err := records.VerifyInclusion(leaves[i], int64(i), int64(n), p, hex.EncodeToString(root)); err != nil {
				t.Fatalf("size %d leaf %d: %v", n, i, err)
			}
			if err := proof.VerifyInclusion(hasher, uint64(i), uint64(n), leaves[i], p, root); err != nil {
				t.Fatalf("size %d leaf %d (library): %v", n, i, err)
			}
		}
	}
}

// naiveRoot is RFC 6962's MTH, recursively.
func naiveRoot(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := naiveRoot(leaves[:k]), naiveRoot(leaves[k:])
	s := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return s[:]
}

type fakeLedger struct {
	commits, proves int
	failProve       bool
	batches         map[string]*records.BatchInput
	proved          map[string][]records.SampledLeaf
}

func (l *fakeLedger) CommitBatch(_ context.Context, in *records.BatchInput) (string, error) {
	l.commits++
	if len(in.Samples) != 0 {
		return "", errors.New("samples in a commit")
	}
	id := "tx-" + in.Root[:16] // identical commits: the same id
	if l.batches == nil {
		l.batches = map[string]*records.BatchInput{}
	}
	l.batches[id] = in
	return id, nil
}

func (l *fakeLedger) ProveBatch(_ context.Context, id string, s []records.SampledLeaf) error {
	if l.failProve {
		return errors.New("peer unavailable")
	}
	if l.proved == nil {
		l.proved = map[string][]records.SampledLeaf{}
	}
	if l.proved[id] != nil {
		return fmt.Errorf("%w: %s", ErrAlreadyProved, id)
	}
	l.proves++
	l.proved[id] = s
	return nil
}

func TestSubmitterResumes(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, id := newIssuer(t, w, clk)
	for i := range 20 {
		is.Issue(context.Background(), delivery(i))
	}
	l := &fakeLedger{failProve: true}
	sub := &Submitter{WAL: w, Ledger: l, EpochLength: time.Minute, Grace: 10 * time.Second, Now: clk.Now}
	// Within the epoch and within the grace period: nothing.
	clk.Set(t0.Add(65 * time.Second))
	if err := sub.Step(context.Background()); err != nil || l.commits != 0 {
		t.Fatalf("early step: %v, %d commits", err, l.commits)
	}
	clk.Set(t0.Add(71 * time.Second))
	if err := sub.Step(context.Background()); err == nil || l.commits != 1 {
		t.Fatalf("step with a failing prove: %v, %d commits", err, l.commits)
	}
	st, _ := w.ReadState(100)
	if st == nil || st.Stage != StageCommitted || st.Size != 20 {
		t.Fatalf("state %+v", st)
	}
	// A restart: the committed batch is proved, not committed again.
	w.Close()
	w2 := openTestWAL(t, dir)
	l.failProve = false
	sub = &Submitter{WAL: w2, Ledger: l, EpochLength: time.Minute, Grace: 10 * time.Second, Now: clk.Now}
	if err := sub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.commits != 1 || l.proves != 1 {
		t.Fatalf("%d commits, %d proves", l.commits, l.proves)
	}
	for bid, samples := range l.proved {
		in := l.batches[bid]
		for _, s := range samples {
			if err := VerifyReceipt(&s.SealedReceipt, s.Proof, in.Root, in.Size, s.Index, id.Cert); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sub.Step(context.Background()); err != nil || l.proves != 1 {
		t.Fatalf("again: %v, %d proves", err, l.proves)
	}
}

func TestSubmitterCrashBeforeMark(t *testing.T) {
	// Killed after Commit but before the mark: the restart commits the
	// identical batch again (a no-op on the ledger: the same id) and proves once.
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, _ := newIssuer(t, w, clk)
	for i := range 5 {
		is.Issue(context.Background(), delivery(i))
	}
	w.CloseEpochs(100)
	b, _ := BuildBatch(w, 100)
	l := &fakeLedger{}
	first, _ := l.CommitBatch(context.Background(), b.Input())
	clk.Set(t0.Add(2 * time.Minute))
	sub := &Submitter{WAL: w, Ledger: l, EpochLength: time.Minute, Grace: 10 * time.Second, Now: clk.Now}
	if err := sub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := w.ReadState(100)
	if st.BatchID != first || l.proves != 1 {
		t.Fatalf("state %+v, %d proves", st, l.proves)
	}
}

// Appends beyond MaxPending wait for a flush.
func TestBackpressure(t *testing.T) {
	w, err := OpenWAL(t.TempDir(), WALOptions{Sealer: testIdentity(t), Ticker: manualTicker, FlushRecords: 1 << 20, MaxPending: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := records.LeafHash([]byte("x"))
	for range 3 {
		w.Append(1, []byte("x"), h)
	}
	done := make(chan error)
	go func() { done <- w.Append(1, []byte("y"), h) }() // waits, and kicks a flush
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := 0
	w.Records(1, func(int64, []byte) error { n++; return nil })
	if n != 3 {
		t.Fatalf("%d durable records after the wait, want 3", n)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, id := newIssuer(t, w, clk)
	for i := range 4 {
		clk.Set(t0.Add(time.Duration(i) * 40 * time.Second))
		is.Issue(context.Background(), delivery(i))
	}
	w.Flush()
	got := logged(t, dir)
	if len(got) != 4 {
		t.Fatalf("%d receipts", len(got))
	}
	for i, l := range got {
		if l.Publisher != delivery(i).Publisher || l.Receipt.Bytes != delivery(i).Bytes {
			t.Fatalf("receipt %d: %+v", i, l)
		}
		if err := VerifySealed(&l.SealedReceipt, id.Cert); err != nil {
			t.Fatal(err)
		}
	}
}

// Killed after Prove and before the mark: the restart's Prove finds the
// batch proved, and the epoch is marked done.
func TestSubmitterCrashAfterProve(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, _ := newIssuer(t, w, clk)
	for i := range 5 {
		is.Issue(context.Background(), delivery(i))
	}
	w.CloseEpochs(100)
	b, _ := BuildBatch(w, 100)
	l := &fakeLedger{}
	id, _ := l.CommitBatch(context.Background(), b.Input())
	samples, _ := b.Samples(id)
	l.ProveBatch(context.Background(), id, samples)
	w.writeState(State{Epoch: 100, Stage: StageCommitted, Root: b.Root, Size: b.Size(), BatchID: id})
	clk.Set(t0.Add(2 * time.Minute))
	sub := &Submitter{WAL: w, Ledger: l, EpochLength: time.Minute, Grace: 10 * time.Second, Now: clk.Now}
	if err := sub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.ReadState(100); st.Stage != StageProved || l.commits != 1 || l.proves != 1 {
		t.Fatalf("state %+v, %d commits, %d proves", st, l.commits, l.proves)
	}
}

// refusingLedger refuses the commit of one epoch's batch for good.
type refusingLedger struct {
	fakeLedger
	refuse func(*records.BatchInput) error
}

func (l *refusingLedger) CommitBatch(ctx context.Context, in *records.BatchInput) (string, error) {
	if err := l.refuse(in); err != nil {
		return "", err
	}
	return l.fakeLedger.CommitBatch(ctx, in)
}

// TestSubmitterAbandonsRefusedBatch: a batch the ledger refuses for good
// (here: its epoch expired) is marked abandoned, with the reason, and the
// next epoch is submitted; a transient failure is retried instead.
func TestSubmitterAbandonsRefusedBatch(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir)
	clk := &fakeClock{t: t0}
	is, _ := newIssuer(t, w, clk)
	for i := range 3 {
		is.Issue(context.Background(), delivery(i))
	}
	clk.Set(t0.Add(time.Minute)) // epoch 101
	for i := range 2 {
		is.Issue(context.Background(), delivery(i))
	}
	transient := true
	l := &refusingLedger{refuse: func(in *records.BatchInput) error {
		switch {
		case in.Epoch == 100 && transient:
			return errors.New("peer unavailable")
		case in.Epoch == 100:
			return records.Errorf(records.CodeFailedPrecondition, "epoch 100 is outside the submission window")
		}
		return nil
	}}
	sub := &Submitter{WAL: w, Ledger: l, EpochLength: time.Minute, Grace: 10 * time.Second, Now: clk.Now}
	clk.Set(t0.Add(2*time.Minute + 11*time.Second))
	if err := sub.Step(context.Background()); err == nil || l.commits != 0 {
		t.Fatalf("transient failure: %v, %d commits; want an error and a retry later", err, l.commits)
	}
	if st, _ := w.ReadState(100); st != nil {
		t.Fatalf("a transient failure changed the state: %+v", st)
	}
	transient = false
	if err := sub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := w.ReadState(100)
	if st == nil || st.Stage != StageAbandoned || !strings.Contains(st.Reason, "submission window") {
		t.Fatalf("epoch 100 state %+v, want abandoned with the reason", st)
	}
	if st, _ := w.ReadState(101); st == nil || st.Stage != StageProved || st.Size != 2 {
		t.Fatalf("epoch 101 state %+v, want proved", st)
	}
	if err := sub.Step(context.Background()); err != nil || l.commits != 1 {
		t.Fatalf("again: %v, %d commits", err, l.commits)
	}
}

// TestIssueValidates: receipts are validated in full even when their
// fixed part was seen before (the issuer's cache of checked deliveries),
// and the request id rule agrees with records.Receipt.Validate.
func TestIssueValidates(t *testing.T) {
	w := openTestWAL(t, t.TempDir())
	is, _ := newIssuer(t, w, &fakeClock{t: t0})
	if _, err := is.Issue(context.Background(), delivery(0)); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Delivery){
		"request with a space": func(d *Delivery) { d.Request = "a b" },
		"empty request":        func(d *Delivery) { d.Request = "" },
		"long request":         func(d *Delivery) { d.Request = strings.Repeat("r", 65) },
		"negative offset":      func(d *Delivery) { d.Offset = -1 },
		"no bytes":             func(d *Delivery) { d.Bytes = 0 },
		"range past a shard":   func(d *Delivery) { d.Offset = records.MaxShardBytes },
		"bad publisher":        func(d *Delivery) { d.Publisher = "" },
		"bad node":             func(d *Delivery) { d.Node = "N" },
	} {
		d := delivery(0)
		mutate(&d)
		if _, err := is.Issue(context.Background(), d); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
	for _, id := range []string{"a", "A.b_c-9", strings.Repeat("x", 64), strings.Repeat("x", 65), "", "é", "a/b", "a\x00", "a:b"} {
		r := records.Receipt{Serial: "s", GatewayMSP: "Org1MSP", Gateway: hashA, Object: "o", Version: "1", ShardHash: hashA,
			Node: "n-org1", Bytes: 1, Request: id}
		if got, want := requestIDValid(id), r.Validate() == nil; got != want {
			t.Errorf("request id %q: valid %v, Validate says %v", id, got, want)
		}
	}
}
