package contract

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// Bounds on what a batch can get paid: the node's capacity per epoch over
// every gateway's batches, the publisher's budget per epoch, and sampled
// receipts that repeat one delivery under other serials.

// nodeEpoch reads node id's capacity counter of epoch.
func (d *deliveryEnv) nodeEpoch(id string, epoch int64) *records.NodeEpoch {
	d.t.Helper()
	return must(d.env, orgB, func(ctx *fakes.Context) (*records.NodeEpoch, error) { return d.dl.NodeEpoch(ctx, id, epoch) })
}

// setBandwidth changes node id's registered bandwidth (bits per second).
func (d *deliveryEnv) setBandwidth(id string, bps int64) {
	d.t.Helper()
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Node, error) {
		return d.node.Update(ctx, nodeJSON(d.t, id, func(in *records.NodeInput) { in.BandwidthBps = bps }))
	})
}

// fund issues and deposits amount tokens into msp's escrow and sets the
// price.
func (d *deliveryEnv) fund(msp string, amount, pricePerMiB int64) {
	d.t.Helper()
	tok := NewTokenContract()
	must(d.env, msp, func(ctx *fakes.Context) (*records.Account, error) { return tok.Issue(ctx, amount) })
	must(d.env, msp, func(ctx *fakes.Context) (*records.Account, error) { return tok.Deposit(ctx, amount) })
	must(d.env, msp, func(ctx *fakes.Context) (*records.Price, error) { return tok.SetPrice(ctx, pricePerMiB) })
}

func (d *deliveryEnv) account(msp string) *records.Account {
	d.t.Helper()
	a, err := call(d.env, msp, func(ctx *fakes.Context) (*records.Account, error) { return NewTokenContract().Account(ctx, msp) }) // its own figures
	if records.CodeOf(err) == records.CodeNotFound {
		return &records.Account{MSPID: msp}
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return a
}

// cappedBy sums a batch's cuts by reason.
func cappedBy(b *records.Batch) map[string]int64 {
	out := map[string]int64{}
	for _, c := range b.Capped {
		out[c.Node+"/"+c.Publisher+"/"+c.Reason] += c.Bytes
	}
	return out
}

// paidBytes sums a batch's payouts by node and publisher.
func paidBytes(b *records.Batch) map[string]int64 {
	out := map[string]int64{}
	for _, p := range b.Payouts {
		out[strings.TrimPrefix(p.Ref, b.ID+"/")] += p.Bytes
	}
	return out
}

// singleNodeBatch is a batch of g with n receipts of node's shard of m,
// each of bytes.
func (d *deliveryEnv) singleNodeBatch(g gateway, epoch int64, prefix string, m *records.Manifest, shard int, n int, bytes int64) *batch {
	b := &batch{epoch: epoch, publisher: d.pub, gw: g}
	for i := range n {
		b.receipts = append(b.receipts, g.receipt(d.t, epoch, fmt.Sprintf("%s-%d", prefix, i), m, shard, m.Shards[shard].Nodes[0], bytes))
	}
	return b
}

func TestDeliveryNodeCapacity(t *testing.T) {
	d := newDeliveryEnv(t)
	// n1 offers 800 bit/s: 6,000 bytes an epoch.
	d.setBandwidth("n1-orga", 800)
	ep := d.nextEpoch()
	const capacity = 6000

	// Gateway A claims 4,000 bytes of n1 (a/app.js shard 0), gateway B
	// 3,000 (b/site.css shard 0) and 500 of n2: B's n1 total is cut to the
	// 2,000 left, n2 is untouched.
	ba := d.singleNodeBatch(d.gwA, ep, "a", d.ma, 0, 4, 1000)
	bb := d.singleNodeBatch(d.gwB, ep, "b", d.mb, 0, 3, 1000)
	bb.receipts = append(bb.receipts, d.gwB.receipt(t, ep, "b-n2", d.mb, 1, "n2-orga", 500))
	// A raise of the bandwidth after the epoch does not count.
	d.nextEpoch()
	d.setBandwidth("n1-orga", 8_000_000)

	pa := d.mustCommit(d.gwA, ba)
	pb := d.mustCommit(d.gwB, bb)
	ga := d.mustProve(d.gwA, pa.ID, ba.samples(d.t, pa.ID))
	if len(ga.Capped) != 0 || paidBytes(ga)["n1-orga/"+orgA] != 4000 {
		t.Fatalf("batch A: capped %+v, paid %v", ga.Capped, paidBytes(ga))
	}
	gb := d.mustProve(d.gwB, pb.ID, bb.samples(d.t, pb.ID))
	if got := cappedBy(gb); fmt.Sprint(got) != fmt.Sprint(map[string]int64{"n1-orga/" + orgB + "/" + records.CappedNodeCapacity: 1000}) {
		t.Fatalf("batch B capped %v (%+v)", got, gb.Capped)
	}
	if got := paidBytes(gb); got["n1-orga/"+orgB] != 2000 || got["n2-orga/"+orgB] != 500 {
		t.Fatalf("batch B paid %v", got)
	}
	for _, a := range gb.Accepted {
		if a.Node == "n1-orga" && (a.Bytes != 2000 || a.Receipts != 3) {
			t.Fatalf("batch B accepted %+v", gb.Accepted)
		}
	}
	if !strings.Contains(gb.Capped[0].Detail, "6000") {
		t.Fatalf("detail %q does not name the capacity", gb.Capped[0].Detail)
	}
	ne := d.nodeEpoch("n1-orga", ep)
	if ne.CapacityBytes != capacity || ne.Bytes != capacity || ne.CappedBytes != 1000 || ne.Batches != 2 {
		t.Fatalf("n1 counter %+v", ne)
	}
	if ne := d.nodeEpoch("n2-orga", ep); ne.Bytes != 500 || ne.CappedBytes != 0 || ne.Batches != 1 {
		t.Fatalf("n2 counter %+v", ne)
	}
	// The full node's next batch of the epoch is paid nothing for it.
	other := newGateway(t, d.env, orgA, "User8@a")
	bc := d.singleNodeBatch(other, ep, "c", d.ma, 0, 2, 10)
	pc := d.mustCommit(other, bc)
	gc := d.mustProve(other, pc.ID, bc.samples(d.t, pc.ID))
	if len(gc.Payouts) != 0 || cappedBy(gc)["n1-orga/"+orgA+"/"+records.CappedNodeCapacity] != 20 {
		t.Fatalf("batch C: payouts %+v, capped %+v", gc.Payouts, gc.Capped)
	}
	h := must(d.env, orgB, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return d.hist.NodeEpoch(ctx, "n1-orga", ep) })
	if len(h) != 3 {
		t.Fatalf("n1 counter history: %d entries", len(h))
	}
	// The next epoch has its own counter.
	if ne := d.nodeEpoch("n1-orga", ep+1); ne.Bytes != 0 || ne.Batches != 0 {
		t.Fatalf("next epoch's counter %+v", ne)
	}
}

// TestDeliveryCapacityOfInactiveNode: receipts of a node inactive during
// the whole epoch are not paid even when they are not sampled.
func TestDeliveryCapacityOfInactiveNode(t *testing.T) {
	d := newDeliveryEnv(t)
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return d.node.Deactivate(ctx, "n3-orga", "retired") })
	ep := d.nextEpoch()
	// 40 receipts: n1 for 30 of them, n3 (inactive) for 10; the sample
	// (21 leaves) excludes the n3 receipts it picks, the capacity check
	// cuts the rest.
	b := d.singleNodeBatch(d.gwA, ep, "a", d.ma, 0, 30, 100)
	for i := range 10 {
		b.receipts = append(b.receipts, d.gwA.receipt(t, ep, fmt.Sprintf("gone-%d", i), d.ma, 2, "n3-orga", 100))
	}
	p := d.mustCommit(d.gwA, b)
	got := d.mustProve(d.gwA, p.ID, b.samples(d.t, p.ID))
	excluded := int64(0)
	for _, x := range got.Excluded {
		if x.Node != "n3-orga" || x.Reason != records.ExcludedInactive {
			t.Fatalf("excluded %+v", x)
		}
		excluded += x.Bytes
	}
	if c := cappedBy(got)["n3-orga/"+orgA+"/"+records.CappedNodeCapacity]; c != 1000-excluded || excluded == 1000 {
		t.Fatalf("n3: %d bytes excluded, %d capped (%+v), want the rest of 1000 capped", excluded, c, got.Capped)
	}
	if paid := paidBytes(got); paid["n3-orga/"+orgA] != 0 || paid["n1-orga/"+orgA] != 3000 {
		t.Fatalf("paid %v", paid)
	}
	if !strings.Contains(got.Capped[0].Detail, "not registered and active") {
		t.Fatalf("detail %q", got.Capped[0].Detail)
	}
}

func TestDeliveryPublisherBudget(t *testing.T) {
	d := newDeliveryEnv(t)
	const mib = records.PriceUnitBytes
	// Org A pays 1,000 tokens per MiB and at most 2,500 tokens an epoch;
	// org B has no budget.
	d.fund(orgA, 1_000_000, 1000)
	d.fund(orgB, 1_000_000, 1000)
	tok := NewTokenContract()
	if b := must(d.env, orgB, func(ctx *fakes.Context) (*records.Budget, error) { return tok.Budget(ctx, orgA) }); b.PerEpoch != 0 {
		t.Fatalf("default budget %+v", b)
	}
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return tok.SetBudget(ctx, 2500) })
	ep := d.nextEpoch()
	before := map[string]*records.Account{orgA: d.account(orgA), orgB: d.account(orgB)}

	// Gateway A: 2 MiB of n1 and 1 MiB of n2 for org A (3,000 tokens), and
	// 1 MiB of n1 for org B.
	b := &batch{epoch: ep, publisher: d.pub}
	b.receipts = append(b.receipts,
		d.gwA.receipt(t, ep, "s1", d.ma, 0, "n1-orga", mib), d.gwA.receipt(t, ep, "s2", d.ma, 0, "n1-orga", mib),
		d.gwA.receipt(t, ep, "s3", d.ma, 1, "n2-orga", mib), d.gwA.receipt(t, ep, "s4", d.mb, 0, "n1-orga", mib))
	p := d.mustCommit(d.gwA, b)
	got := d.mustProve(d.gwA, p.ID, b.samples(d.t, p.ID))
	// n1 (first in order) gets its 2 MiB; n2 the most bytes 500 tokens
	// pay for (rounded down, the carry being 0 after the 2 MiB): those
	// below 501 tokens' worth.
	half := (501*mib - 1) / 1000
	wantPaid := map[string]int64{"n1-orga/" + orgA: 2 * mib, "n2-orga/" + orgA: half, "n1-orga/" + orgB: mib}
	if fmt.Sprint(paidBytes(got)) != fmt.Sprint(wantPaid) {
		t.Fatalf("paid %v, want %v", paidBytes(got), wantPaid)
	}
	if c := cappedBy(got); fmt.Sprint(c) != fmt.Sprint(map[string]int64{"n2-orga/" + orgA + "/" + records.CappedPublisherBudget: mib - half}) {
		t.Fatalf("capped %v", c)
	}
	var total int64
	for _, po := range got.Payouts {
		if po.Payer == orgA {
			total += po.Amount
		}
		if po.Epoch != ep {
			t.Fatalf("payout %+v of epoch %d", po, po.Epoch)
		}
	}
	if total != 2500 {
		t.Fatalf("org A paid %d, want its budget 2500", total)
	}
	for _, a := range got.Accepted {
		if a.Node == "n2-orga" && a.Bytes != half {
			t.Fatalf("accepted %+v", got.Accepted)
		}
	}
	spend := must(d.env, orgA, func(ctx *fakes.Context) (*records.EpochSpend, error) { return tok.Spend(ctx, orgA, ep) })
	if spend.Amount != 2500 || spend.CappedBytes != mib-half {
		t.Fatalf("spend %+v", spend)
	}
	// Balances moved by exactly what was paid: org A's escrow lost 2,500
	// and org B's 1,000; org A (the nodes' operator) gained 3,500.
	after := map[string]*records.Account{orgA: d.account(orgA), orgB: d.account(orgB)}
	if after[orgA].Escrow != before[orgA].Escrow-2500 || after[orgB].Escrow != before[orgB].Escrow-1000 ||
		after[orgA].Balance != before[orgA].Balance+3500 || after[orgB].Balance != before[orgB].Balance {
		t.Fatalf("accounts %+v → %+v", before, after)
	}

	// Another gateway's batch of the same epoch: org A's budget is spent.
	bb := d.singleNodeBatch(d.gwB, ep, "b", d.ma, 1, 2, 1000)
	pb := d.mustCommit(d.gwB, bb)
	gb := d.mustProve(d.gwB, pb.ID, bb.samples(d.t, pb.ID))
	if len(gb.Payouts) != 1 || gb.Payouts[0].Bytes != 0 || gb.Payouts[0].Amount != 0 || gb.Payouts[0].CappedBytes != 2000 ||
		cappedBy(gb)["n2-orga/"+orgA+"/"+records.CappedPublisherBudget] != 2000 {
		t.Fatalf("batch B: payouts %+v, capped %+v", gb.Payouts, gb.Capped)
	}
	// A raised budget lets more through, from what was spent.
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return tok.SetBudget(ctx, 2501) })
	other := newGateway(t, d.env, orgA, "User9@a")
	bc := d.singleNodeBatch(other, ep, "c", d.ma, 1, 1, mib)
	pc := d.mustCommit(other, bc)
	gc := d.mustProve(other, pc.ID, bc.samples(d.t, pc.ID))
	if len(gc.Payouts) != 1 || gc.Payouts[0].Amount != 1 {
		t.Fatalf("batch C: payouts %+v", gc.Payouts)
	}
	// The next epoch has a budget of its own; 0 lifts it.
	ep2 := d.nextEpoch()
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return tok.SetBudget(ctx, 0) })
	bd := d.singleNodeBatch(d.gwA, ep2, "d", d.ma, 0, 4, mib)
	pd := d.mustCommit(d.gwA, bd)
	if gd := d.mustProve(d.gwA, pd.ID, bd.samples(d.t, pd.ID)); len(gd.Capped) != 0 || gd.Payouts[0].Amount != 4000 {
		t.Fatalf("next epoch: payouts %+v, capped %+v", gd.Payouts, gd.Capped)
	}
	h := must(d.env, orgB, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return d.hist.Budget(ctx, orgA) })
	if len(h) != 3 || !strings.Contains(h[0].Value, `"perEpoch":2500`) || !strings.Contains(h[2].Value, `"perEpoch":0`) {
		t.Fatalf("budget history %+v", h)
	}
	s := must(d.env, orgB, func(ctx *fakes.Context) (*records.Supply, error) { return tok.Supply(ctx) })
	if s.Balances+s.Escrows != s.Issued {
		t.Fatalf("supply %+v", s)
	}

	// Refusals change nothing.
	publisher := newMember(t, orgA, "User1@a", "client")
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Identity, error) {
		return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: publisher.pem, Roles: []records.Role{records.RolePublisher}}))
	})
	_, err := as(d.env, publisher, func(ctx *fakes.Context) (*records.Budget, error) { return tok.SetBudget(ctx, 5) })
	wantCode(t, err, records.CodeForbidden, "admin")
	for _, v := range []int64{-1, records.MaxBudgetPerEpoch + 1} {
		_, err = call(d.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return tok.SetBudget(ctx, v) })
		wantCode(t, err, records.CodeInvalid, "tokensPerEpoch")
	}
	_, err = call(d.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return tok.Budget(ctx, "bad msp") })
	wantCode(t, err, records.CodeInvalid, "mspId")
}

// TestDeliveryBudgetCarry: a budget cut keeps the carried remainder
// consistent: the carry advances with the bytes paid only, and a later
// payout to the same pair starts from it.
func TestDeliveryBudgetCarry(t *testing.T) {
	d := newDeliveryEnv(t)
	const mib = records.PriceUnitBytes
	d.fund(orgA, 1_000_000, 3) // 3 tokens per MiB: most deliveries leave a remainder
	tok := NewTokenContract()
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return tok.SetBudget(ctx, 2) })
	ep := d.nextEpoch()
	b := d.singleNodeBatch(d.gwA, ep, "a", d.ma, 0, 1, mib) // 3 tokens due; the budget covers 2
	p := d.mustCommit(d.gwA, b)
	got := d.mustProve(d.gwA, p.ID, b.samples(d.t, p.ID))
	po := got.Payouts[0]
	// The most bytes 2 tokens pay for: 3·n < 3·MiB·… i.e. n = ⌊(3·2^20 − 1)/3⌋.
	wantBytes := (3*mib - 1) / 3
	if po.Amount != 2 || po.Bytes != wantBytes || po.CappedBytes != mib-wantBytes {
		t.Fatalf("payout %+v, want 2 tokens for %d bytes", po, wantBytes)
	}
	carryKey, _ := records.CompositeKey(records.CarryKeyType, orgA, orgA)
	raw, ok := d.ledger.Get(carryKey)
	want := fmt.Sprintf(`"remainder":%d`, (3*wantBytes)%mib)
	if !ok || !strings.Contains(string(raw), want) {
		t.Fatalf("carry %s, want %s", raw, want)
	}
}

func TestDeliveryDuplicateAcrossSerials(t *testing.T) {
	d := newDeliveryEnv(t)
	ep := d.epoch()
	g := d.gwA
	b := &batch{epoch: ep, publisher: d.pub}
	r1 := g.receipt(t, ep, "s1", d.ma, 0, "n1-orga", 100)
	// The same delivery under a new serial.
	r2 := r1
	r2.Serial = "s2"
	// The same request and shard at another offset is another delivery.
	r3 := r1
	r3.Serial, r3.Offset = "s3", 100
	// So is another request's fetch of the same bytes.
	r4 := r1
	r4.Serial, r4.Request = "s4", "req-other"
	// A duplicate of an excluded receipt (not a holder) is excluded for
	// its own reason.
	r5 := g.receipt(t, ep, "s5", d.ma, 0, "n2-orga", 7)
	r6 := r5
	r6.Serial = "s6"
	b.receipts = []records.Receipt{r1, r2, r3, r4, r5, r6}
	p := d.mustCommit(g, b)
	got := d.mustProve(g, p.ID, b.samples(d.t, p.ID))
	reasons := map[string]string{}
	for _, x := range got.Excluded {
		reasons[x.Serial] = x.Reason
		if x.Serial == "s2" && !strings.Contains(x.Detail, "s1") {
			t.Fatalf("detail %q does not name the first receipt", x.Detail)
		}
	}
	want := map[string]string{"s2": records.ExcludedDuplicate, "s5": records.ExcludedUnassigned, "s6": records.ExcludedUnassigned}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Fatalf("excluded %v, want %v", reasons, want)
	}
	if paid := paidBytes(got); paid["n1-orga/"+orgA] != 300 {
		t.Fatalf("paid %v, want the three distinct deliveries", paid)
	}
	if d.serialPaid(g, "s2") || !d.serialPaid(g, "s1") {
		t.Fatal("the duplicate's serial was recorded, or the first's not")
	}
}

// TestDeliveryHugeClaims: totals claiming close to 2⁶³ bytes, twice, are
// cut to the node's capacity and counted without overflowing, and an
// honest batch of the same node and epoch still proves.
func TestDeliveryHugeClaims(t *testing.T) {
	d := newDeliveryEnv(t)
	d.fund(orgA, 1_000_000, 1)
	ep := d.epoch()
	const huge = math.MaxInt64 - 10
	for i, g := range []gateway{d.gwA, d.gwB} {
		b := d.singleNodeBatch(g, ep, fmt.Sprint("h", i), d.ma, 0, 1, 100)
		in := b.input()
		in.Totals[0].Bytes = huge
		p, err := as(d.env, g.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
		if err != nil {
			t.Fatal(err)
		}
		got := d.mustProve(g, p.ID, b.samples(d.t, p.ID))
		if len(got.Capped) != 1 || got.Capped[0].Reason != records.CappedNodeCapacity {
			t.Fatalf("batch %d capped %+v", i, got.Capped)
		}
	}
	ne := d.nodeEpoch("n1-orga", ep)
	if ne.Bytes != ne.CapacityBytes || ne.CappedBytes != math.MaxInt64 || ne.Batches != 2 {
		t.Fatalf("counter %+v", ne)
	}
	other := newGateway(t, d.env, orgA, "User10@a")
	b := d.singleNodeBatch(other, ep, "ok", d.ma, 0, 1, 100)
	p := d.mustCommit(other, b)
	if got := d.mustProve(other, p.ID, b.samples(d.t, p.ID)); got.Status != records.BatchAccepted || cappedBy(got)["n1-orga/"+orgA+"/"+records.CappedNodeCapacity] != 100 {
		t.Fatalf("honest batch %+v", got)
	}
}
