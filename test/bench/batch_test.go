//go:build bench

package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// batchReceipts is the size of TestBatch1M's batch.
const batchReceipts = 1_000_000

// TestBatch1M is the ledger side of proof of delivery at scale, on the
// real network: a gateway identity of Org1 (User2, the network's gateway)
// issues 1,000,000 receipts with the real issuer and log (group commits
// sealed with its key) for the shards of four published objects, each
// from a node the manifest names as the shard's holder, in the current
// epoch. The batch is built from the log, committed (delivery:Commit) and
// proved (delivery:Prove) through pkg/ledger, and must be accepted with
// every total paid and nothing excluded. It reports the issue rate, the
// batch build time, the Commit and Prove latencies (submit to commit
// event), the latency of a transaction that writes nothing (the identical
// Commit again) as a baseline, and the chaincode's own time to verify the
// samples, read from the chaincode's log (delivery:Prove logs it on every
// endorsement).
func TestBatch1M(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	net := testenv.Start(t, suite)
	desc := net.Desc
	gw := startGateway(t, ctx, desc, nil) // receipts off: it only publishes
	org := desc.Orgs[0]
	id, err := org.Identity(testnetwork.RoleGateway)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.LoadSigner(org.MSPID, id.Cert, id.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	lc := testenv.LedgerClient(t, desc, 0, signer)

	// Four objects of Org1; every shard of each, from each of its holders.
	type source struct {
		m     *records.Manifest
		shard int
		node  string
	}
	var sources []source
	pub := testenv.Publisher(desc, gw)
	for i := range 4 {
		body := make([]byte, (64+i*32)<<10)
		rand.New(rand.NewSource(int64(i))).Read(body)
		res, err := pub.Publish(ctx, fmt.Sprintf("bench/batch/%d.bin", i), "", int64(len(body)), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		m, err := lc.GetManifest(ctx, res.Name, res.Version)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Shards {
			for _, n := range s.Nodes {
				sources = append(sources, source{m: m, shard: s.Index, node: n})
			}
		}
	}

	// The receipts, from two goroutines as two request handlers would.
	rid, err := ledger.ReceiptIdentity(org.MSPID, id.Cert, id.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := receipts.OpenWAL(t.TempDir(), receipts.WALOptions{Sealer: rid})
	if err != nil {
		t.Fatal(err)
	}
	defer wal.Close()
	now := time.Now()
	is, err := receipts.NewIssuer(wal, rid, time.Duration(records.DefaultEpochSeconds)*time.Second, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	epoch := is.Epoch(now)
	if epoch != records.EpochOf(now, records.DefaultEpochSeconds) {
		t.Fatalf("the issuer's epoch %d is not the chaincode's %d", epoch, records.EpochOf(now, records.DefaultEpochSeconds))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start := time.Now()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < batchReceipts; i = next.Add(1) - 1 {
				src := sources[i%int64(len(sources))]
				_, err := is.Issue(ctx, receipts.Delivery{
					Publisher: src.m.Publisher, Object: src.m.Name, Version: src.m.Version, Shard: src.shard,
					ShardHash: src.m.Shards[src.shard].Hash, Node: src.node, Offset: 0, Bytes: src.m.Shards[src.shard].Size,
					Request: "req-" + strconv.FormatInt(i/4, 10),
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := wal.CloseEpochs(epoch); err != nil {
		t.Fatal(err)
	}
	issued := time.Since(start)
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	start = time.Now()
	b, err := receipts.BuildBatch(wal, epoch)
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	if b.Size() != batchReceipts {
		t.Fatalf("batch of %d receipts, want %d", b.Size(), batchReceipts)
	}

	start = time.Now()
	committed, err := lc.CommitBatch(ctx, *b.Input())
	if err != nil {
		t.Fatal(err)
	}
	commitLatency := time.Since(start)
	if committed.Status != records.BatchPending || committed.Size != batchReceipts || committed.Root != b.Root {
		t.Fatalf("committed %+v", committed)
	}
	// Baseline: the identical Commit again goes through endorsement,
	// ordering and validation and writes nothing.
	start = time.Now()
	again, err := lc.CommitBatch(ctx, *b.Input())
	if err != nil {
		t.Fatal(err)
	}
	baseline := time.Since(start)
	if again.ID != committed.ID {
		t.Fatalf("the identical commit made batch %s, not %s", again.ID, committed.ID)
	}

	start = time.Now()
	samples, err := b.Samples(committed.ID)
	if err != nil {
		t.Fatal(err)
	}
	sampled := time.Since(start)
	start = time.Now()
	proved, err := lc.ProveBatch(ctx, committed.ID, samples)
	if err != nil {
		t.Fatal(err)
	}
	proveLatency := time.Since(start)
	// Nothing is excluded; each node's total is accepted up to the node's
	// capacity for the epoch (bandwidthBps / 8 × 60 s: 1M receipts of
	// whole shards in one epoch is more than the agents registered) and
	// the rest is capped for node-capacity, so accepted + capped = claimed.
	var claimed, accepted, capped int64
	for _, x := range b.Totals {
		claimed += x.Bytes
	}
	for _, x := range proved.Accepted {
		accepted += x.Bytes
	}
	for _, c := range proved.Capped {
		if c.Reason != records.CappedNodeCapacity {
			t.Fatalf("capped %+v, want only node-capacity cuts", c)
		}
		capped += c.Bytes
	}
	if proved.Status != records.BatchAccepted || len(proved.Excluded) != 0 || accepted+capped != claimed || accepted == 0 ||
		len(proved.Accepted) != len(b.Totals) || len(proved.Sampled) != len(samples) || len(proved.Payouts) == 0 {
		t.Fatalf("proved %+v (excluded %+v, accepted %+v, capped %+v), want every total of %+v accepted or capped at the node's capacity",
			proved.Status, proved.Excluded, proved.Accepted, proved.Capped, b.Totals)
	}
	got, err := lc.GetBatch(ctx, committed.ID)
	if err != nil || got.Status != records.BatchAccepted || got.ProveTxID != proved.ProveTxID {
		t.Fatalf("the ledger's batch %+v: %v", got, err)
	}

	verify, total, err := proveTimes(filepath.Join(desc.RunDir, "logs", "chaincode-"+desc.Chaincode+".log"), committed.ID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\nbatch of %d receipts (%d sources, %d groups sealed), epoch %d, %d samples:\n", batchReceipts, len(sources), b.Groups(), epoch, len(samples))
	fmt.Printf("  issued into the log     : %s (%.0f receipts/s, 2 callers)\n", issued.Round(time.Millisecond), batchReceipts/issued.Seconds())
	fmt.Printf("  batch built from the log: %s; samples read with proofs: %s\n", built.Round(time.Millisecond), sampled.Round(time.Microsecond))
	fmt.Printf("  delivery:Commit         : %s (submit to commit event)\n", commitLatency.Round(time.Millisecond))
	fmt.Printf("  identical Commit again  : %s (a transaction that writes nothing: the baseline)\n", baseline.Round(time.Millisecond))
	fmt.Printf("  delivery:Prove          : %s (submit to commit event), %s over the baseline\n", proveLatency.Round(time.Millisecond), (proveLatency - baseline).Round(time.Millisecond))
	fmt.Printf("  chaincode, per endorsement: verify samples %v µs, whole Prove %v µs\n", verify, total)
	fmt.Printf("  accepted %d totals (%d of %d bytes; %d capped at the nodes' capacity), %d payouts, excluded %d\n",
		len(proved.Accepted), accepted, claimed, capped, len(proved.Payouts), len(proved.Excluded))
	report(t, "receipts issued into the log with the gateway's real identity, 1M from 2 goroutines", "≥ 50,000/s",
		fmt.Sprintf("%.0f/s", batchReceipts/issued.Seconds()), VerdictOf(batchReceipts/issued.Seconds() >= 50_000))
	report(t, "delivery:Commit of a 1M-receipt batch, submit to commit event (an empty Commit: the baseline)", "",
		fmt.Sprintf("%s (%s)", commitLatency.Round(time.Millisecond), baseline.Round(time.Millisecond)), Info)
	report(t, "delivery:Prove of that batch, submit to commit event", "", fmt.Sprintf("%s (%d samples)", proveLatency.Round(time.Millisecond), len(samples)), Info)
}

// proveTimes reads the verification and total times (µs) the chaincode
// logged for the Prove of batch id, one per endorsement.
func proveTimes(path, id string) (verify, total []int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "msg=delivery:Prove") || !strings.Contains(line, " batch="+id+" ") {
			continue
		}
		fields := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				fields[k] = v
			}
		}
		if fields["err"] != "<nil>" {
			continue
		}
		v, err1 := strconv.ParseInt(fields["verifyMicros"], 10, 64)
		t, err2 := strconv.ParseInt(fields["totalMicros"], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("chaincode log line %q", line)
		}
		verify, total = append(verify, v), append(total, t)
	}
	if len(verify) == 0 {
		return nil, nil, fmt.Errorf("%s logs no successful Prove of batch %s", path, id)
	}
	return verify, total, sc.Err()
}
