//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
)

// TestDeliveryUnderFaults: proof of delivery loses no receipt and pays
// nothing twice when the gateway is SIGKILLed and the ordering service is
// restarted while it batches. Both faults share one epoch wait:
//
//  1. under concurrent cold reads, the gateway (a separate process) is
//     SIGKILLed while requests are in flight and its write-ahead log's
//     group commits are in progress, and restarted on the same receipts
//     directory; the reads go on;
//  2. at the end of the epoch every orderer of the network is stopped, so
//     that the submitter's delivery:Commit fails (seen in the gateway's
//     log), then restarted; the submitter retries;
//  3. as soon as the gateway logs the epoch's batch committed, it is
//     SIGKILLed again — before it proved the batch if the kill wins the
//     race — and restarted; it resumes.
//
// Then: no serial is twice in the log; every receipt durable in the log is
// in the one accepted batch of its epoch (same Merkle root, size and
// totals as the log's records, nothing excluded), the batch was accepted
// exactly once (its history), each payout ref is paid once, and every
// account moved by exactly the payouts (the carried-remainder rule
// replayed), with issued = balances + escrows.
func TestDeliveryUnderFaults(t *testing.T) {
	const (
		issued  = 1_000_000_000
		deposit = 500_000_000
		price   = 1009 // tokens per MiB: not a divisor, so remainders carry
		workers = 4
		burst   = 40 // reads served before each step of the load phase
	)
	gw := env.Gateways[0]
	pub := gw.Org
	ctx := ctxT(t, 8*time.Minute)
	admins := orgAdmins(t)
	pubAdmin := admins[pub]
	auditor := auditorLedger(t) // other organisations' figures are private to them and auditors
	before, batchesBefore := settled(t, ctx, auditor, pub)
	fund(t, ctx, admins, issued, deposit, price)
	body := payload(256<<10, 95)
	res := publish(t, "e2e/delivery/faults.bin", "application/octet-stream", body)
	epochLen := time.Duration(records.DefaultEpochSeconds) * time.Second

	// 1. SIGKILL under load.
	first := receipts.EpochAt(time.Now(), epochLen)
	ld := startLoad(t, gatewayURL()+res.VersionedURL, len(body), workers)
	ld.waitServed(t, ctx, burst)
	if err := env.KillService(ctx, gw.Name); err != nil {
		t.Fatal(err)
	}
	restartOnFailure(t, gw.Name)
	servedAtKill := ld.served.Load()
	durableAtKill := walSerials(t, gw.ReceiptsDir)
	if err := env.RestartService(ctx, gw.Name); err != nil {
		t.Fatal(err)
	}
	ld.waitServed(t, ctx, ld.served.Load()+burst)
	ld.stop()
	last := receipts.EpochAt(time.Now(), epochLen)
	t.Logf("gateway SIGKILLed after %d reads (%d receipts durable), restarted; %d reads served, %d failed while it was down",
		servedAtKill, len(durableAtKill), ld.served.Load(), ld.failed.Load())
	if ld.failed.Load() == 0 {
		t.Error("no read failed: the gateway was not killed under load")
	}

	// 2. The ordering service stops at the end of the epoch: the
	// submitter's Commit of its batch fails.
	end := records.EpochStart(last+1, records.DefaultEpochSeconds)
	time.Sleep(time.Until(end.Add(-time.Second))) // the fault is timed to the epoch's end, the gateway's clock being ours
	log := watchLog(t, gw.Name)
	for _, o := range env.Orderers {
		if err := env.StopNode(ctx, o.Name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { startOrderers(t) })
	stopped := time.Now()
	failure := log.wait(t, ctx, time.Until(end)+2*time.Minute, fmt.Sprintf("a failed submission of epoch %d", last), func(l string) bool {
		return strings.Contains(l, `msg="receipt batches"`) && strings.Contains(l, fmt.Sprintf("epoch %d:", last))
	})
	t.Logf("submitter failed with the orderers down: %s", failure)
	startOrderers(t)
	t.Logf("orderers down for %s", time.Since(stopped).Round(100*time.Millisecond))

	// 3. SIGKILL as soon as the batch is committed.
	committed := log.wait(t, ctx, 3*time.Minute, fmt.Sprintf("the batch of epoch %d committed", last), func(l string) bool {
		return strings.Contains(l, `msg="receipt batch committed"`) && strings.Contains(l, fmt.Sprintf(" epoch=%d ", last))
	})
	if err := env.KillService(ctx, gw.Name); err != nil {
		t.Fatal(err)
	}
	proved := log.seen(t, func(l string) bool {
		return strings.Contains(l, `msg="receipt batch proved"`) && strings.Contains(l, fmt.Sprintf(" epoch=%d ", last))
	})
	t.Logf("gateway SIGKILLed after %q (proved before the kill: %v)", committed, proved)
	if err := env.RestartService(ctx, gw.Name); err != nil {
		t.Fatal(err)
	}

	// The batches of the epochs read in, accepted.
	counts := walEpochs(t, gw.ReceiptsDir, first, last)
	if len(counts) == 0 {
		t.Fatalf("no receipts in epochs %d..%d", first, last)
	}
	ours := waitAccepted(t, ctx, pubAdmin, pub, counts, 3*time.Minute)

	// No serial twice; every receipt durable at the first kill still there.
	serials := walSerials(t, gw.ReceiptsDir)
	for s := range durableAtKill {
		if !serials[s] {
			t.Errorf("receipt %s, durable when the gateway was killed, is gone from the log", s)
		}
	}
	// Every durable receipt is in the accepted batch of its epoch: the log,
	// built as the gateway builds it, has the batch's root, size and
	// totals; nothing was excluded, so the accepted totals are the log's.
	copied := copyDir(t, gw.ReceiptsDir)
	w, err := receipts.OpenWAL(copied, receipts.WALOptions{Sealer: gatewayIdentity(t, gw.Org)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for e, b := range ours {
		lb, err := receipts.BuildBatch(w, e)
		if err != nil || lb == nil {
			t.Fatalf("the log's batch of epoch %d: %v, %v", e, lb, err)
		}
		if lb.Root != b.Root || lb.Size() != b.Size || lb.Size() != counts[e] || !slices.Equal(lb.Totals, b.Totals) {
			t.Errorf("epoch %d: the log has %d receipts (root %s, totals %+v); the accepted batch %s has %d (root %s, totals %+v)",
				e, lb.Size(), lb.Root, lb.Totals, b.ID, b.Size, b.Root, b.Totals)
		}
		if len(b.Excluded) != 0 || !slices.Equal(b.Accepted, lb.Totals) {
			t.Errorf("epoch %d: batch %s accepted %+v, excluded %+v; the log's totals are %+v", e, b.ID, b.Accepted, b.Excluded, lb.Totals)
		}
		if ab := acceptedBytes(b); ab != totalOf(lb.Totals) {
			t.Errorf("epoch %d: %d bytes accepted, the log has %d", e, ab, totalOf(lb.Totals))
		}
		acceptedOnce(t, ctx, pubAdmin, b)
	}

	// Each ref paid once, the accounts moved by exactly the payouts.
	after, bs := settled(t, ctx, auditor, pub)
	paidTo, paidFrom := checkPayouts(t, ctx, auditor, bs, acceptedIDs(batchesBefore))
	checkAccounts(t, before, after, paidTo, paidFrom, pub, issued, deposit)
	checkSupply(t, ctx, pubAdmin)
	var inBatches int64
	for _, b := range ours {
		inBatches += b.Size
	}
	t.Logf("epochs %v accepted with %d receipts, all of the log's for them (%d serials in the log, none twice); paid %v since the test began",
		slices.Sorted(mapKeys(ours)), inBatches, len(serials), paidTo)
}

// load reads one object through the gateway with concurrent workers until
// stopped, counting the reads served whole and the failures (the gateway
// being down); a failed read is retried after a short pause.
type load struct {
	served, failed atomic.Int64
	done           chan struct{}
	wg             sync.WaitGroup
	once           sync.Once
}

func startLoad(t *testing.T, url string, size, workers int) *load {
	t.Helper()
	l := &load{done: make(chan struct{})}
	hc := &http.Client{Timeout: 30 * time.Second}
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.done:
					return
				default:
				}
				if read(hc, url, size) {
					l.served.Add(1)
					continue
				}
				l.failed.Add(1)
				select {
				case <-l.done:
					return
				case <-time.After(20 * time.Millisecond): // pace the retries while the gateway is down
				}
			}
		}()
	}
	t.Cleanup(l.stop)
	return l
}

func read(hc *http.Client, url string, size int) bool {
	resp, err := hc.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK && n == int64(size) && resp.Header.Get(api.RequestIDHeader) != ""
}

func (l *load) stop() {
	l.once.Do(func() { close(l.done) })
	l.wg.Wait()
}

// waitServed waits until n reads were served.
func (l *load) waitServed(t *testing.T, ctx context.Context, n int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for l.served.Load() < n {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%d reads served (%d failed), waiting for %d", l.served.Load(), l.failed.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restartOnFailure restarts a service killed by the test if the test ends
// before it did, so that the tests after it find the system whole.
func restartOnFailure(t *testing.T, name string) {
	t.Cleanup(func() {
		if _, err := env.PID(name); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.RestartService(ctx, name); err != nil {
			t.Errorf("restart %s: %v", name, err)
		}
	})
}

// startOrderers starts the orderers that are not running and waits for a
// Raft leader.
func startOrderers(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, o := range env.Orderers {
		if _, err := env.PID(o.Name); err == nil {
			continue
		}
		if err := env.StartNode(ctx, o.Name); err != nil {
			t.Errorf("start %s: %v", o.Name, err)
		}
	}
}

// logWatch follows a process's log from where it ended when the watch
// began.
type logWatch struct {
	path  string
	off   int64
	lines []string // complete lines read so far
}

func watchLog(t *testing.T, name string) *logWatch {
	t.Helper()
	path := env.LogFile(name)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return &logWatch{path: path, off: st.Size()}
}

// poll reads the lines appended since the last poll.
func (w *logWatch) poll(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, w.off, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return nil
	}
	w.off += int64(i + 1)
	lines := strings.Split(string(b[:i]), "\n")
	w.lines = append(w.lines, lines...)
	return lines
}

// wait polls the log until a line appended since the watch began matches,
// and returns it; it fails the test after timeout.
func (w *logWatch) wait(t *testing.T, ctx context.Context, timeout time.Duration, what string, match func(string) bool) string {
	t.Helper()
	for _, l := range w.lines {
		if match(l) {
			return l
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range w.poll(t) {
			if match(l) {
				return l
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("waited %s for %s in %s", timeout, what, w.path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seen reports whether a line appended since the watch began matches.
func (w *logWatch) seen(t *testing.T, match func(string) bool) bool {
	t.Helper()
	w.poll(t)
	return slices.ContainsFunc(w.lines, match)
}

// walSerials are the serials of every intact receipt of the log in dir;
// a serial found twice fails the test.
func walSerials(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := receipts.ReadDir(dir, func(l receipts.Logged) error {
		if out[l.Receipt.Serial] {
			return fmt.Errorf("serial %s is twice in the log", l.Receipt.Serial)
		}
		out[l.Receipt.Serial] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// walEpochs counts the receipts of the log in dir per epoch in
// [first, last].
func walEpochs(t *testing.T, dir string, first, last int64) map[int64]int64 {
	t.Helper()
	out := map[int64]int64{}
	err := receipts.ReadDir(dir, func(l receipts.Logged) error {
		if e := l.Receipt.Epoch; e >= first && e <= last {
			out[e]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitAccepted polls the ledger until gatewayMSP has an accepted batch for
// every epoch of want, and checks that each epoch has exactly one batch.
func waitAccepted(t *testing.T, ctx context.Context, c *ledger.Client, gatewayMSP string, want map[int64]int64, timeout time.Duration) map[int64]*records.Batch {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		bs, err := c.Batches(ctx, gatewayMSP)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]*records.Batch{}
		perEpoch := map[int64]int{}
		for _, b := range bs {
			if _, ok := want[b.Epoch]; !ok {
				continue
			}
			perEpoch[b.Epoch]++
			if b.Status == records.BatchAccepted {
				got[b.Epoch] = b
			}
		}
		for e, n := range perEpoch {
			if n != 1 {
				t.Fatalf("%d batches of %s for epoch %d", n, gatewayMSP, e)
			}
		}
		if len(got) == len(want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, batches accepted for epochs %v of %v", timeout, slices.Sorted(mapKeys(got)), slices.Sorted(mapKeys(want)))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// acceptedOnce checks a batch's history: committed once, accepted once.
func acceptedOnce(t *testing.T, ctx context.Context, c *ledger.Client, b *records.Batch) {
	t.Helper()
	h, err := c.BatchHistory(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []records.BatchStatus
	for _, e := range h {
		var v records.Batch
		if err := json.Unmarshal([]byte(e.Value), &v); err != nil {
			t.Fatalf("history of batch %s: %v", b.ID, err)
		}
		statuses = append(statuses, v.Status)
	}
	if !slices.Equal(statuses, []records.BatchStatus{records.BatchPending, records.BatchAccepted}) {
		t.Errorf("batch %s was written %v, want committed once and accepted once", b.ID, statuses)
	}
}

func totalOf(ts []records.NodeTotal) int64 {
	var n int64
	for _, t := range ts {
		n += t.Bytes
	}
	return n
}

// copyDir copies the files of dir into a temporary directory.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
