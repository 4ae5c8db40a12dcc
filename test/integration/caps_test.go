//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestDeliveryCaps commits and proves, on the real network, a gateway's
// batch of signed receipts (built with pkg/receipts under the gateway
// identity User2) whose total for one node exceeds what the node's
// registered bandwidth allows in an epoch, for a publisher with a small
// budget per epoch. It checks on the ledger that the node's total is cut
// to its capacity, that the publisher pays exactly its budget, that the
// cuts are recorded in the batch, the node's counter and the publisher's
// spend, and that the balances moved by exactly the amounts paid.
func TestDeliveryCaps(t *testing.T) {
	ctx := ctxT(t)
	orgA, orgB := shared.Orgs[0].MSPID, shared.Orgs[1].MSPID
	adminA, adminB := adminClient(t, shared, 0), adminClient(t, shared, 1)
	auditor, _ := identityClient(t, shared, 0, testnetwork.RoleAuditor) // both organisations' figures
	// Org B's gateway commits: Org A's commits a batch of the current
	// epoch in TestDeliveryRejections, and a gateway has one batch an epoch.
	gatewayB, gwID := identityClient(t, shared, 1, testnetwork.RoleGateway)

	// Three nodes of org A; n1 offers 8,000 bit/s: 60,000 bytes an epoch.
	const (
		n1Bps     = 8000
		n1Cap     = n1Bps / 8 * records.DefaultEpochSeconds
		unit      = 10_000 // bytes per receipt
		perNode   = 10     // receipts per node
		pricePerM = 1024   // tokens per MiB: 1 per KiB
		budget    = 100    // org B's tokens per epoch: 100 KiB
	)
	suffix := time.Now().UnixNano() % 1_000_000
	var nodes []string
	for i := range 3 {
		id := fmt.Sprintf("cap%d-n%d-org1", suffix, i+1)
		in := nodeInput(t, id, "caps", 9400+i)
		if i == 0 {
			in.BandwidthBps = n1Bps
		}
		if _, err := adminA.RegisterNode(ctx, in); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, id)
	}
	// Org B's object on them (k = 2, m = 1: shard i on node i).
	content := make([]byte, 2*perNode*unit)
	man := testManifest(fmt.Sprintf("caps/%d.bin", suffix), "1", content, 2, 1, nodes)
	if _, err := adminB.RecordManifest(ctx, man); err != nil {
		t.Fatal(err)
	}

	// Org B funds its escrow and caps it at 100 tokens an epoch; the price
	// is 1,024 tokens per MiB.
	if _, err := adminB.IssueTokens(ctx, 1_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := adminB.DepositEscrow(ctx, 1_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := adminA.SetPrice(ctx, pricePerM); err != nil {
		t.Fatal(err)
	}
	if b, err := adminA.Budget(ctx, orgB); err != nil || b.PerEpoch != 0 {
		t.Fatalf("org B's budget before it set one: %+v, %v (want 0, no limit)", b, err)
	}
	// Only an organisation's admin sets its budget.
	publisherB, _ := identityClient(t, shared, 1, testnetwork.RolePublisher)
	if _, err := publisherB.SetBudget(ctx, 1); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a publisher setting the budget: %v, want PERMISSION_DENIED", err)
	}
	set, err := adminB.SetBudget(ctx, budget)
	if err != nil {
		t.Fatal(err)
	}
	if err := adminA.WaitForCommit(ctx, set.TxID); err != nil { // read through org A's peer
		t.Fatal(err)
	}
	t.Cleanup(func() { // the network is shared with later tests
		if _, err := adminB.SetBudget(context.Background(), 0); err != nil {
			t.Errorf("lifting org B's budget: %v", err)
		}
	})
	if b, err := adminA.Budget(ctx, orgB); err != nil || b.PerEpoch != budget {
		t.Fatalf("org B's budget %+v, %v", b, err)
	}
	if h, err := adminA.BudgetHistory(ctx, orgB); err != nil || len(h) == 0 {
		t.Fatalf("budget history %v, %v", h, err)
	}

	// The gateway's receipts of the current epoch: every node delivers
	// 10 × 10,000 bytes of its shard for 10 requests.
	ident, err := ledger.ReceiptIdentity(orgB, gwID.Cert, gwID.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := receipts.OpenWAL(t.TempDir(), receipts.WALOptions{Sealer: ident})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wal.Close() })
	at := time.Now()
	issuer, err := receipts.NewIssuer(wal, ident, time.Duration(records.DefaultEpochSeconds)*time.Second, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	epoch := issuer.Epoch(at)
	for shard, node := range nodes {
		for i := range perNode {
			_, err := issuer.Issue(ctx, receipts.Delivery{Publisher: orgB, Object: man.Name, Version: man.Version,
				Shard: shard, ShardHash: man.Shards[shard].Hash, Node: node, Offset: int64(i * unit), Bytes: unit,
				Request: fmt.Sprintf("caps-%d-req-%d", suffix, i)})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := wal.CloseEpochs(epoch); err != nil {
		t.Fatal(err)
	}
	batch, err := receipts.BuildBatch(wal, epoch)
	if err != nil || batch == nil {
		t.Fatalf("batch of epoch %d: %v, %v", epoch, batch, err)
	}

	before := map[string]int64{}
	for _, msp := range []string{orgA, orgB} {
		a, err := auditor.Account(ctx, msp)
		if errors.Is(err, records.ErrNotFound) {
			a, err = &records.Account{}, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		before[msp+"/balance"], before[msp+"/escrow"] = a.Balance, a.Escrow
	}
	committed, err := gatewayB.CommitBatch(ctx, *batch.Input())
	if err != nil {
		t.Fatal(err)
	}
	samples, err := batch.Samples(committed.ID)
	if err != nil {
		t.Fatal(err)
	}
	proved, err := gatewayB.ProveBatch(ctx, committed.ID, samples)
	if err != nil {
		t.Fatal(err)
	}
	if proved.Status != records.BatchAccepted || len(proved.Excluded) != 0 {
		t.Fatalf("proved %+v", proved)
	}
	t.Logf("batch %s of epoch %d: %d receipts, %d sampled; accepted %+v; capped %+v", proved.ID, proved.Epoch, proved.Size,
		len(proved.Sampled), proved.Accepted, proved.Capped)

	// n1's 100,000 bytes are cut to its 60,000 of capacity.
	capped := map[string]int64{}
	for _, c := range proved.Capped {
		if c.Publisher != orgB {
			t.Fatalf("capped %+v", c)
		}
		capped[c.Node+"/"+c.Reason] += c.Bytes
	}
	if got := capped[nodes[0]+"/"+records.CappedNodeCapacity]; got != perNode*unit-n1Cap {
		t.Fatalf("n1 capped %d bytes for its capacity, want %d (%+v)", got, perNode*unit-n1Cap, proved.Capped)
	}
	ne, err := adminA.NodeEpoch(ctx, nodes[0], epoch)
	if err != nil || ne.CapacityBytes != n1Cap || ne.Bytes != n1Cap || ne.CappedBytes != perNode*unit-n1Cap || ne.Batches != 1 {
		t.Fatalf("n1's counter %+v, %v", ne, err)
	}
	if h, err := adminA.NodeEpochHistory(ctx, nodes[0], epoch); err != nil || len(h) != 1 || h[0].TxID != proved.ProveTxID {
		t.Fatalf("n1's counter history %+v, %v", h, err)
	}

	// Org B pays exactly its budget (the price adds less than a token a
	// byte, so the cut lands on it); the rest is cut for its budget.
	var paid, paidBytes, budgetCut int64
	for _, p := range proved.Payouts {
		if p.Payer != orgB || p.Payee != orgA || p.Status != records.PayoutPaid || p.Epoch != epoch {
			t.Fatalf("payout %+v", p)
		}
		paid += p.Amount
		paidBytes += p.Bytes
		budgetCut += p.CappedBytes
	}
	for _, n := range nodes {
		budgetCut -= capped[n+"/"+records.CappedPublisherBudget]
	}
	if paid != budget || budgetCut != 0 {
		t.Fatalf("org B paid %d tokens (want its budget %d); payouts' and batch's budget cuts differ by %d", paid, budget, budgetCut)
	}
	var cut int64
	for _, c := range proved.Capped {
		cut += c.Bytes
	}
	if paidBytes+cut != int64(len(nodes)*perNode*unit) {
		t.Fatalf("paid %d + cut %d bytes, the batch has %d", paidBytes, cut, len(nodes)*perNode*unit)
	}
	spend, err := auditor.EpochSpend(ctx, orgB, epoch)
	if err != nil || spend.Amount != budget || spend.CappedBytes != cut-(perNode*unit-n1Cap) {
		t.Fatalf("org B's spend of epoch %d: %+v, %v", epoch, spend, err)
	}
	// Balances moved by exactly the amount paid.
	a, err := auditor.Account(ctx, orgA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auditor.Account(ctx, orgB)
	if err != nil {
		t.Fatal(err)
	}
	if a.Balance != before[orgA+"/balance"]+paid || a.Escrow != before[orgA+"/escrow"] ||
		b.Escrow != before[orgB+"/escrow"]-paid || b.Balance != before[orgB+"/balance"] {
		t.Fatalf("accounts A %+v, B %+v; before %v, paid %d", a, b, before, paid)
	}
	s, err := adminA.Supply(ctx)
	if err != nil || s.Balances+s.Escrows != s.Issued {
		t.Fatalf("supply %+v, %v", s, err)
	}
	// Proving again pays nothing more.
	again, err := gatewayB.ProveBatch(ctx, committed.ID, samples)
	if err != nil || again.ProveTxID != proved.ProveTxID {
		t.Fatalf("second prove %+v, %v", again, err)
	}
}
