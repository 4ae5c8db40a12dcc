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

func TestIssueSignVerify(t *testing.T) {
	w := openTestWAL(t, t.TempDir())
	clk := &fakeClock{t: t0}
	is, id := newIssuer(t, w, clk)
	r, err := is.Issue(context.Background(), delivery(1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Epoch != 100 || r.GatewayMSP != "Org1MSP" || r.Gateway != records.CertHash(id.Cert) {
		t.Fatalf("receipt %+v", r)
	}
	if err := VerifySignature(r, id.Cert); err != nil {
		t.Fatal(err)
	}
	tampered := *r
	tampered.Bytes++
	if err := VerifySignature(&tampered, id.Cert); err == nil {
		t.Fatal("a tampered receipt verifies")
	}
	if err := VerifySignature(r, testIdentity(t).Cert); err == nil {
		t.Fatal("another gateway's certificate verifies")
	}
	r2, _ := is.Issue(context.Background(), delivery(1))
	if r2.Serial == r.Serial {
		t.Fatal("serials repeat")
	}
	bad := delivery(1)
	bad.ShardHash = "nothex"
	if _, err := is.Issue(context.Background(), bad); err == nil {
		t.Fatal("an invalid delivery got a receipt")
	}
}

func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWAL(dir, WALOptions{Ticker: manualTicker, FlushRecords: 10})
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
}

func TestTickerFlush(t *testing.T) {
	tick := make(chan time.Time)
	w, err := OpenWAL(t.TempDir(), WALOptions{Ticker: func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }})
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

func TestReplayTornTailAndCRC(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(path string, size int64)
		keep int
	}{
		{"torn payload", func(p string, n int64) { os.Truncate(p, n-5) }, 4},
		{"torn header", func(p string, n int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{0, 0, 1})
			f.Close()
		}, 5},
		{"corrupt last record", func(p string, n int64) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			f.WriteAt([]byte{'X'}, n-3)
			f.Close()
		}, 4},
		{"zero-filled tail", func(p string, n int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _ := OpenWAL(dir, WALOptions{Ticker: manualTicker})
			is, _ := newIssuer(t, w, &fakeClock{t: t0})
			for i := range 5 {
				is.Issue(context.Background(), delivery(i))
			}
			w.Close()
			path := filepath.Join(dir, segmentName(100))
			st, _ := os.Stat(path)
			tc.harm(path, st.Size())

			w2 := openTestWAL(t, dir)
			n, before := count(t, w2, 100)
			if n != tc.keep {
				t.Fatalf("replayed %d records, want %d", n, tc.keep)
			}
			// New records follow the intact ones; nothing repeats.
			is2, _ := newIssuer(t, w2, &fakeClock{t: t0})
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
		})
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
	if err := w.Seal(101); err != nil {
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
	w.Seal(100)
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
		if err := VerifyReceipt(&s.Receipt, s.Proof, b.Root, n, s.Index, id.Cert); err != nil {
			t.Fatalf("sample %d: %v", s.Index, err)
		}
		if err := VerifyReceipt(&s.Receipt, s.Proof, b.Root, n, (s.Index+1)%n, id.Cert); err == nil {
			t.Fatalf("sample %d verifies at another index", s.Index)
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
			if err := VerifyReceipt(&s.Receipt, s.Proof, in.Root, in.Size, s.Index, id.Cert); err != nil {
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
	w.Seal(100)
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

func TestLeafDataSplice(t *testing.T) {
	w := openTestWAL(t, t.TempDir())
	is, _ := newIssuer(t, w, &fakeClock{t: t0})
	for i := range 20 {
		r, err := is.Issue(context.Background(), delivery(i))
		if err != nil {
			t.Fatal(err)
		}
		c := *r
		c.Signature = nil
		if got := leafData(c.SigningBytes(), r.Signature); !bytes.Equal(got, r.LeafData()) {
			t.Fatalf("spliced leaf %s, want %s", got, r.LeafData())
		}
	}
}

// Appends beyond MaxPending wait for a flush.
func TestBackpressure(t *testing.T) {
	w, err := OpenWAL(t.TempDir(), WALOptions{Ticker: manualTicker, FlushRecords: 1 << 20, MaxPending: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 3 {
		w.Append(1, []byte("x"))
	}
	done := make(chan error)
	go func() { done <- w.Append(1, []byte("y")) }() // waits, and kicks a flush
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.Durable(1) != 3*(frameHeader+1) {
		t.Fatalf("durable %d after the wait", w.Durable(1))
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
	var got []Logged
	if err := ReadDir(dir, func(l Logged) error { got = append(got, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d receipts", len(got))
	}
	for i, l := range got {
		if l.Publisher != delivery(i).Publisher || l.Receipt.Bytes != delivery(i).Bytes {
			t.Fatalf("receipt %d: %+v", i, l)
		}
		if err := VerifySignature(&l.Receipt, id.Cert); err != nil {
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
	w.Seal(100)
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
