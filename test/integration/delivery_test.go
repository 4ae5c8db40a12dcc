//go:build integration

package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestDeliveryRejections commits and proves batches of receipts made with
// pkg/receipts under org A's gateway identity on the real network, and
// checks each rejection case of proof of delivery: a forged batch (a
// sampled receipt signed with another key; a root its receipts are not in)
// is INVALID_ARGUMENT at Prove, an expired epoch FAILED_PRECONDITION, a
// second batch for the gateway's epoch ALREADY_EXISTS, a commit by a
// non-gateway identity or a Prove by another gateway PERMISSION_DENIED —
// none of them changes an account or pays anything. Then an honest batch
// with a receipt of a node that did not hold the shard is accepted with
// that receipt excluded and the others paid, to the token; committing and
// proving it again is a no-op that pays nothing twice.
func TestDeliveryRejections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	mspA, mspB := shared.Orgs[0].MSPID, shared.Orgs[1].MSPID
	adminA, adminB := adminClient(t, shared, 0), adminClient(t, shared, 1)
	auditor, _ := identityClient(t, shared, 0, testnetwork.RoleAuditor) // both organisations' figures
	gatewayA, gwID := identityClient(t, shared, 0, testnetwork.RoleGateway)
	gatewayB, _ := identityClient(t, shared, 1, testnetwork.RoleGateway)
	publisherA, _ := identityClient(t, shared, 0, testnetwork.RolePublisher)
	gwIdentity, err := ledger.ReceiptIdentity(mspA, gwID.Cert, gwID.KeyDir)
	if err != nil {
		t.Fatal(err)
	}

	// Two nodes of org A and one of org B hold the three shards of an
	// object of org A (k=2, m=1, one 64 KiB stripe unit per shard).
	a1, a2 := "dl-a1-"+records.OrgSlug(mspA), "dl-a2-"+records.OrgSlug(mspA)
	b1 := "dl-b1-" + records.OrgSlug(mspB)
	var txs []string
	for i, n := range []struct {
		cl *ledger.Client
		id string
	}{{adminA, a1}, {adminA, a2}, {adminB, b1}} {
		node, err := n.cl.RegisterNode(ctx, nodeInput(t, n.id, "delivery", 9800+i))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, node.LastTxID)
	}
	const unit = 64 << 10
	mf, err := publisherA.RecordManifest(ctx, testManifest("dl/object.bin", "v1", make([]byte, 2*unit), 2, 1, []string{a1, a2, b1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range append(txs, mf.TxID) {
		if err := gatewayA.WaitForCommit(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	delivery := func(shard int, node string) receipts.Delivery {
		return receipts.Delivery{Publisher: mspA, Object: mf.Name, Version: mf.Version, Shard: shard, ShardHash: mf.Shards[shard].Hash,
			Node: node, Bytes: unit, Request: fmt.Sprintf("it-%d-%s", shard, node)}
	}
	honest := []receipts.Delivery{delivery(0, a1), delivery(1, a2), delivery(2, b1)}

	// A price at which a 64 KiB receipt is worth 64 tokens whatever the
	// remainder carried (64 KiB × 1024 is a whole number of MiB).
	const price = 1024
	if _, err := adminA.IssueTokens(ctx, 1_000_000); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*ledger.Client{adminA, adminB} {
		if _, err := c.OpenAccount(ctx); err != nil && !errors.Is(err, records.ErrConflict) {
			t.Fatal(err)
		}
	}
	if _, err := adminA.DepositEscrow(ctx, 100_000); err != nil {
		t.Fatal(err)
	}
	if _, err := adminA.SetPrice(ctx, price); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	epochsAgo := func(n int64) time.Time { return now.Add(-time.Duration(n*records.DefaultEpochSeconds) * time.Second) }

	// Rejections: every account and the gateway's batches as they were.
	accountsBefore := ledgerAccounts(t, ctx, auditor, mspA, mspB)
	batchCount := func() int {
		bs, err := adminA.Batches(ctx, mspA)
		if err != nil {
			t.Fatal(err)
		}
		return len(bs)
	}
	countBefore := batchCount()

	// Forged: a sampled receipt signed with a key that is not the gateway's.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged := receiptBatch(t, receipts.KeyIdentity(mspA, gwIdentity.Cert, key), epochsAgo(2), honest)
	pending, err := gatewayA.CommitBatch(ctx, *forged.Input())
	if err != nil {
		t.Fatal(err)
	}
	samples, err := forged.Samples(pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = gatewayA.ProveBatch(ctx, pending.ID, samples)
	wantCode(t, "proving receipts signed with another key", err, records.ErrInvalid)
	// A Prove of gatewayA's batch by gatewayB (once its peer has the
	// batch): not its batch.
	if err := gatewayB.WaitForCommit(ctx, pending.ID); err != nil {
		t.Fatal(err)
	}
	_, err = gatewayB.ProveBatch(ctx, pending.ID, samples)
	wantCode(t, "gatewayB proving gatewayA's batch", err, records.ErrForbidden)
	if b, err := adminA.GetBatch(ctx, pending.ID); err != nil || b.Status != records.BatchPending || len(b.Payouts) != 0 {
		t.Fatalf("forged batch after its refused proofs: %+v, %v", b, err)
	}

	// Forged: the samples are not in the tree committed (another root).
	good := receiptBatch(t, gwIdentity, epochsAgo(3), honest)
	other := receiptBatch(t, gwIdentity, epochsAgo(3), honest[:2])
	in := *good.Input()
	in.Root = other.Root
	notInTree, err := gatewayA.CommitBatch(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	samples, err = good.Samples(notInTree.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = gatewayA.ProveBatch(ctx, notInTree.ID, samples)
	wantCode(t, "proving receipts that are not in the committed tree", err, records.ErrInvalid)

	// Overlapping: the honest batch of that epoch, now that another holds it.
	_, err = gatewayA.CommitBatch(ctx, *good.Input())
	wantCode(t, "a second, different batch for the same epoch", err, records.ErrConflict)
	if b, err := adminA.GetBatch(ctx, notInTree.ID); err != nil || b.Status != records.BatchPending || b.Root != other.Root {
		t.Fatalf("the epoch's batch after an overlapping commit: %+v, %v", b, err)
	}

	// Expired: an epoch older than the submission window.
	expired := receiptBatch(t, gwIdentity, epochsAgo(records.SubmissionEpochs+2), honest)
	_, err = gatewayA.CommitBatch(ctx, *expired.Input())
	wantCode(t, "a batch of an expired epoch", err, records.ErrFailedPrecondition)

	// A commit by identities that are not gateways.
	valid := receiptBatch(t, gwIdentity, epochsAgo(4), honest)
	for name, c := range map[string]*ledger.Client{"adminA": adminA, "publisherA": publisherA} {
		_, err = c.CommitBatch(ctx, *valid.Input())
		wantCode(t, name+" committing a batch", err, records.ErrForbidden)
	}

	if n := batchCount(); n != countBefore+2 {
		t.Fatalf("%d batches of %s, want the %d before and the two forged ones", n, mspA, countBefore)
	}
	if got := ledgerAccounts(t, ctx, auditor, mspA, mspB); !maps.Equal(got, accountsBefore) {
		t.Fatalf("refused batches changed the accounts:\n before %+v\n after  %+v", accountsBefore, got)
	}

	// Accepted, with an unassigned receipt excluded: node b1 never held
	// shard 0. A batch of 4 receipts samples every leaf.
	unassigned := delivery(0, b1)
	batch := receiptBatch(t, gwIdentity, time.Now(), append(slices.Clone(honest), unassigned))
	committed, err := gatewayA.CommitBatch(ctx, *batch.Input())
	if err != nil {
		t.Fatal(err)
	}
	samples, err = batch.Samples(committed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 4 {
		t.Fatalf("%d samples of a batch of 4", len(samples))
	}
	var unassignedSerial string
	for _, s := range samples {
		if s.Receipt.Node == b1 && s.Receipt.Shard == 0 {
			unassignedSerial = s.Receipt.Serial
		}
	}
	accepted, err := gatewayA.ProveBatch(ctx, committed.ID, samples)
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Status != records.BatchAccepted || len(accepted.Excluded) != 1 ||
		accepted.Excluded[0].Serial != unassignedSerial || accepted.Excluded[0].Reason != records.ExcludedUnassigned {
		t.Fatalf("batch %+v: want accepted with receipt %s excluded as %s", accepted, unassignedSerial, records.ExcludedUnassigned)
	}
	wantAccepted := []records.NodeTotal{
		{Node: a1, Publisher: mspA, Receipts: 1, Bytes: unit},
		{Node: a2, Publisher: mspA, Receipts: 1, Bytes: unit},
		{Node: b1, Publisher: mspA, Receipts: 1, Bytes: unit},
	}
	slices.SortFunc(wantAccepted, func(x, y records.NodeTotal) int { return strings.Compare(x.Node, y.Node) })
	if !slices.Equal(accepted.Accepted, wantAccepted) {
		t.Fatalf("accepted %+v, want %+v", accepted.Accepted, wantAccepted)
	}
	const perReceipt = unit * price / (1 << 20)
	paidTo := map[string]int64{}
	refs := map[string]bool{}
	for _, p := range accepted.Payouts {
		if p.Amount != perReceipt || p.Payer != mspA || p.Status != records.PayoutPaid {
			t.Fatalf("payout %+v: want %d tokens paid by %s", p, perReceipt, mspA)
		}
		paidTo[p.Payee] += p.Amount
		refs[p.Ref] = true
	}
	for _, n := range []string{a1, a2, b1} {
		if !refs[committed.ID+"/"+n+"/"+mspA] {
			t.Fatalf("payouts %+v: none for node %s", accepted.Payouts, n)
		}
	}
	if paidTo[mspA] != 2*perReceipt || paidTo[mspB] != perReceipt {
		t.Fatalf("paid %v: want %d to %s and %d to %s", paidTo, 2*perReceipt, mspA, perReceipt, mspB)
	}
	afterPaid := ledgerAccounts(t, ctx, auditor, mspA, mspB)
	a, b := accountsBefore[mspA], accountsBefore[mspB]
	if got := afterPaid[mspA]; got.Balance != a.Balance+2*perReceipt || got.Escrow != a.Escrow-3*perReceipt {
		t.Fatalf("account %s %+v: want balance %d, escrow %d", mspA, got, a.Balance+2*perReceipt, a.Escrow-3*perReceipt)
	}
	if got := afterPaid[mspB]; got.Balance != b.Balance+perReceipt || got.Escrow != b.Escrow {
		t.Fatalf("account %s %+v: want balance %d, escrow %d", mspB, got, b.Balance+perReceipt, b.Escrow)
	}

	// Replayed: the identical Commit returns the accepted batch and writes
	// nothing; proving it again pays nothing twice.
	history := func() int {
		h, err := adminA.BatchHistory(ctx, committed.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(h)
	}
	writes := history()
	again, err := gatewayA.CommitBatch(ctx, *batch.Input())
	if err != nil || again.ID != committed.ID || again.Status != records.BatchAccepted {
		t.Fatalf("the identical commit again: %+v, %v", again, err)
	}
	again, err = gatewayA.ProveBatch(ctx, committed.ID, samples)
	if err != nil || again.ProveTxID != accepted.ProveTxID {
		t.Fatalf("the proof again: %+v, %v", again, err)
	}
	payoutsB, err := auditor.Payouts(ctx, mspB)
	if err != nil {
		t.Fatal(err)
	}
	paidB1 := 0
	for _, p := range payoutsB {
		if p.Ref == committed.ID+"/"+b1+"/"+mspA {
			paidB1++
		}
	}
	if paidB1 != 1 {
		t.Fatalf("payout of b1 for batch %s recorded %d times", committed.ID, paidB1)
	}
	if n := history(); n != writes {
		t.Fatalf("the replays wrote batch %s: %d writes, were %d", committed.ID, n, writes)
	}
	if got := ledgerAccounts(t, ctx, auditor, mspA, mspB); !maps.Equal(got, afterPaid) {
		t.Fatalf("the replays changed the accounts:\n before %+v\n after  %+v", afterPaid, got)
	}
	if s, err := adminA.Supply(ctx); err != nil || s.Issued != s.Balances+s.Escrows {
		t.Fatalf("supply %+v, %v", s, err)
	}
}

// receiptBatch issues receipts for the deliveries under id at time at (so
// in its epoch) into a fresh write-ahead log, and builds their batch.
func receiptBatch(t *testing.T, id receipts.Identity, at time.Time, ds []receipts.Delivery) *receipts.Batch {
	t.Helper()
	w, err := receipts.OpenWAL(t.TempDir(), receipts.WALOptions{Sealer: id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	is, err := receipts.NewIssuer(w, id, time.Duration(records.DefaultEpochSeconds)*time.Second, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := is.Issue(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	epoch := records.EpochOf(at, records.DefaultEpochSeconds)
	if err := w.CloseEpochs(epoch); err != nil {
		t.Fatal(err)
	}
	b, err := receipts.BuildBatch(w, epoch)
	if err != nil || b == nil || b.Size() != int64(len(ds)) {
		t.Fatalf("batch of %d receipts: %+v, %v", len(ds), b, err)
	}
	return b
}

// ledgerAccounts reads the accounts of the organisations (zero when one
// has none).
func ledgerAccounts(t *testing.T, ctx context.Context, c *ledger.Client, msps ...string) map[string]records.Account {
	t.Helper()
	out := map[string]records.Account{}
	for _, m := range msps {
		a, err := c.Account(ctx, m)
		switch {
		case errors.Is(err, records.ErrNotFound):
			out[m] = records.Account{MSPID: m}
		case err != nil:
			t.Fatal(err)
		default:
			out[m] = *a
		}
	}
	return out
}
