package contract

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// RFC 6962 section 2.1 written literally (as records/receipt_test.go).
func mthOf(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return records.LeafHash(leaves[0])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return interior(mthOf(leaves[:k]), mthOf(leaves[k:]))
}

func interior(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

func auditPath(m int, leaves [][]byte) [][]byte {
	if len(leaves) == 1 {
		return nil
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	if m < k {
		return append(auditPath(m, leaves[:k]), mthOf(leaves[k:]))
	}
	return append(auditPath(m-k, leaves[k:]), mthOf(leaves[:k]))
}

// gateway is a member with the gateway role and its signing key.
type gateway struct {
	member
	key *ecdsa.PrivateKey
}

func newGateway(t *testing.T, e *env, msp, cn string) gateway {
	t.Helper()
	cert, p, key, err := fakes.NewCertKey(msp, cn, "client")
	if err != nil {
		t.Fatal(err)
	}
	g := gateway{member: member{msp: msp, cert: cert, pem: p}, key: key}
	must(e, msp, func(ctx *fakes.Context) (*records.Identity, error) {
		return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: p, Roles: []records.Role{records.RoleGateway}}))
	})
	return g
}

func (g gateway) hash() string { return records.CertHash(g.cert) }

// receipt returns a receipt of g for node serving shard of m.
func (g gateway) receipt(t *testing.T, epoch int64, serial string, m *records.Manifest, shard int, node string, n int64) records.Receipt {
	r := records.Receipt{Serial: serial, GatewayMSP: g.msp, Gateway: g.hash(), Epoch: epoch, Object: m.Name, Version: m.Version,
		Shard: shard, ShardHash: m.Shards[shard].Hash, Node: node, Offset: 0, Bytes: n, Request: "req-" + serial}
	g.sign(t, &r)
	return r
}

func (g gateway) sign(t *testing.T, r *records.Receipt) {
	t.Helper()
	sum := sha256.Sum256(r.SigningBytes())
	sig, err := ecdsa.SignASN1(rand.Reader, g.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Signature = sig
}

// batch is a gateway's log of receipts of one epoch.
type batch struct {
	epoch    int64
	receipts []records.Receipt
	// publisher of each object name, for the totals.
	publisher map[string]string
}

func (b *batch) leaves() [][]byte {
	var out [][]byte
	for i := range b.receipts {
		out = append(out, b.receipts[i].LeafData())
	}
	return out
}

func (b *batch) input() records.BatchInput {
	sums := map[[2]string]*records.NodeTotal{}
	for _, r := range b.receipts {
		k := [2]string{r.Node, b.publisher[r.Object]}
		if sums[k] == nil {
			sums[k] = &records.NodeTotal{Node: k[0], Publisher: k[1]}
		}
		sums[k].Receipts++
		sums[k].Bytes += r.Bytes
	}
	var totals []records.NodeTotal
	for _, t := range sums {
		totals = append(totals, *t)
	}
	slices.SortFunc(totals, func(a, b records.NodeTotal) int {
		return strings.Compare(a.Node+"\x00"+a.Publisher, b.Node+"\x00"+b.Publisher)
	})
	return records.BatchInput{Epoch: b.epoch, Root: hex.EncodeToString(mthOf(b.leaves())), Size: int64(len(b.receipts)), Totals: totals}
}

// samples returns the leaves SampleIndices(id) picks, with their proofs.
func (b *batch) samples(id string) []records.SampledLeaf {
	leaves := b.leaves()
	var out []records.SampledLeaf
	for _, i := range records.SampleIndices(id, int64(len(leaves))) {
		out = append(out, records.SampledLeaf{Index: i, Receipt: b.receipts[i], Proof: auditPath(int(i), leaves)})
	}
	return out
}

// deliveryEnv has org A's nodes n1..n4, org A's object a/app.js@1 and
// org B's object b/site.css@1 on n1..n3 (shard i on n(i+1)), and a gateway
// of each organisation; the clock is at the start of a new epoch.
type deliveryEnv struct {
	*env
	dl       *DeliveryContract
	gwA, gwB gateway
	ma, mb   *records.Manifest
	pub      map[string]string
}

func newDeliveryEnv(t *testing.T) *deliveryEnv {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga", "n4-orga")
	d := &deliveryEnv{env: e, dl: NewDeliveryContract()}
	d.ma = e.record(orgA, "a/app.js", "1")
	d.mb = e.record(orgB, "b/site.css", "1")
	d.gwA = newGateway(t, e, orgA, "User2@a")
	d.gwB = newGateway(t, e, orgB, "User2@b")
	d.pub = map[string]string{d.ma.Name: orgA, d.mb.Name: orgB}
	d.nextEpoch()
	return d
}

// nextEpoch moves the clock to one second into the next epoch and returns
// it.
func (d *deliveryEnv) nextEpoch() int64 {
	now := d.ledger.Now()
	next := records.EpochStart(records.EpochOf(now) + 1).Add(time.Second)
	d.ledger.Advance(next.Sub(now))
	return records.EpochOf(d.ledger.Now())
}

func (d *deliveryEnv) epoch() int64 { return records.EpochOf(d.ledger.Now()) }

// standard returns a batch of g with six receipts: every shard of both
// objects, each from its holder.
func (d *deliveryEnv) standard(g gateway, epoch int64, prefix string) *batch {
	b := &batch{epoch: epoch, publisher: d.pub}
	for i, m := range []*records.Manifest{d.ma, d.mb} {
		for s := range 3 {
			b.receipts = append(b.receipts, g.receipt(d.t, epoch, fmt.Sprintf("%s-%d-%d", prefix, i, s), m, s, m.Shards[s].Nodes[0], int64(100*(s+1)+i)))
		}
	}
	return b
}

func (d *deliveryEnv) commit(g gateway, b *batch) (*records.Batch, error) {
	d.t.Helper()
	in := b.input()
	return as(d.env, g.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(d.t, in)) })
}

func (d *deliveryEnv) prove(g gateway, id string, samples []records.SampledLeaf) (*records.Batch, error) {
	d.t.Helper()
	return as(d.env, g.member, func(ctx *fakes.Context) (*records.Batch, error) {
		return d.dl.Prove(ctx, id, toJSON(d.t, samples))
	})
}

func (d *deliveryEnv) mustCommit(g gateway, b *batch) *records.Batch {
	d.t.Helper()
	res, err := d.commit(g, b)
	if err != nil {
		d.t.Fatal(err)
	}
	return res
}

func (d *deliveryEnv) mustProve(g gateway, id string, samples []records.SampledLeaf) *records.Batch {
	d.t.Helper()
	res, err := d.prove(g, id, samples)
	if err != nil {
		d.t.Fatal(err)
	}
	return res
}

func (d *deliveryEnv) serialPaid(g gateway, serial string) bool {
	key, err := records.CompositeKey(records.SerialKeyType, g.hash(), serial)
	if err != nil {
		d.t.Fatal(err)
	}
	_, ok := d.ledger.Get(key)
	return ok
}

// noWrites runs fn as g and checks that it succeeds without writing.
func (d *deliveryEnv) noWrites(g gateway, fn func(*fakes.Context) (*records.Batch, error)) *records.Batch {
	d.t.Helper()
	ctx := d.ledger.NewContextAs(g.msp, g.cert)
	res, err := callCtx(d.env, ctx, fn)
	if err != nil {
		d.t.Fatal(err)
	}
	if w := ctx.Stub.Writes(); len(w) != 0 {
		d.t.Fatalf("a resubmission wrote %q", w)
	}
	return res
}

func TestDeliveryAccepted(t *testing.T) {
	d := newDeliveryEnv(t)
	ep := d.must(t)
	b := d.standard(d.gwA, ep.Epoch, "s")
	in := b.input()
	pending := d.mustCommit(d.gwA, b)
	if pending.Status != records.BatchPending || pending.ID == "" || pending.Gateway != d.gwA.hash() || pending.GatewayMSP != orgA ||
		pending.Epoch != ep.Epoch || pending.Root != in.Root || pending.Size != 6 || len(pending.Totals) != 6 {
		t.Fatalf("committed %+v", pending)
	}
	// The identical Commit again is a no-op returning the batch.
	again := d.noWrites(d.gwA, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
	if again.ID != pending.ID {
		t.Fatalf("resubmitted commit = %s, want %s", again.ID, pending.ID)
	}

	got := d.mustProve(d.gwA, pending.ID, b.samples(pending.ID))
	if got.Status != records.BatchAccepted || !slices.Equal(got.Accepted, in.Totals) || len(got.Excluded) != 0 ||
		got.ProveTxID == "" || len(got.Sampled) != 6 {
		t.Fatalf("proved %+v", got)
	}
	if len(got.Payouts) != len(in.Totals) {
		t.Fatalf("payouts %+v, want one per total", got.Payouts)
	}
	for i, p := range got.Payouts {
		tot := in.Totals[i]
		if p.Ref != pending.ID+"/"+tot.Node+"/"+tot.Publisher || p.Payer != tot.Publisher || p.Payee != orgA || p.Bytes != tot.Bytes {
			t.Fatalf("payout %d = %+v for total %+v", i, p, tot)
		}
	}
	for _, r := range b.receipts {
		if !d.serialPaid(d.gwA, r.Serial) {
			t.Fatalf("serial %s not recorded", r.Serial)
		}
	}
	// Proving again is a no-op: nothing is paid twice.
	if again := d.noWrites(d.gwA, func(ctx *fakes.Context) (*records.Batch, error) {
		return d.dl.Prove(ctx, pending.ID, toJSON(t, b.samples(pending.ID)))
	}); again.ProveTxID != got.ProveTxID {
		t.Fatalf("second prove = %+v", again)
	}
	// So is committing it again.
	d.noWrites(d.gwA, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })

	read := must(d.env, orgB, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Batch(ctx, pending.ID) })
	if read.Status != records.BatchAccepted {
		t.Fatalf("read %+v", read)
	}
	list := must(d.env, orgB, func(ctx *fakes.Context) ([]*records.Batch, error) { return d.dl.Batches(ctx, orgA) })
	if len(list) != 1 || list[0].ID != pending.ID {
		t.Fatalf("batches of org A = %+v", list)
	}
	if list := must(d.env, orgB, func(ctx *fakes.Context) ([]*records.Batch, error) { return d.dl.Batches(ctx, orgB) }); len(list) != 0 {
		t.Fatalf("batches of org B = %+v", list)
	}
	h := must(d.env, orgB, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return d.hist.Batch(ctx, pending.ID) })
	if len(h) != 2 || !strings.Contains(h[0].Value, `"pending"`) || !strings.Contains(h[1].Value, `"accepted"`) {
		t.Fatalf("history = %+v", h)
	}
	_, err := call(d.env, orgA, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Batch(ctx, "nope") })
	wantCode(t, err, records.CodeNotFound, "does not exist")
}

func (d *deliveryEnv) must(t *testing.T) *records.EpochInfo {
	t.Helper()
	ep := must(d.env, orgA, func(ctx *fakes.Context) (*records.EpochInfo, error) { return d.dl.Epoch(ctx) })
	if ep.Seconds != records.EpochSeconds || ep.Window != records.SubmissionEpochs || ep.Start == "" {
		t.Fatalf("epoch = %+v", ep)
	}
	return ep
}

func TestDeliveryReplay(t *testing.T) {
	d := newDeliveryEnv(t)
	e1 := d.epoch()
	b1 := d.standard(d.gwA, e1, "s")
	id1 := d.mustCommit(d.gwA, b1).ID
	d.mustProve(d.gwA, id1, b1.samples(id1))

	// The next epoch's batch replays serial s-0-0 (re-signed for the new
	// epoch) and repeats s-1-1 twice in itself.
	e2 := d.nextEpoch()
	b2 := d.standard(d.gwA, e2, "t")
	b2.receipts[0] = d.gwA.receipt(t, e2, "s-0-0", d.ma, 0, "n1-orga", 100)
	b2.receipts[5] = d.gwA.receipt(t, e2, "t-1-1", d.mb, 1, "n2-orga", 201)
	id2 := d.mustCommit(d.gwA, b2).ID
	got := d.mustProve(d.gwA, id2, b2.samples(id2))
	if len(got.Excluded) != 2 {
		t.Fatalf("excluded %+v, want the replayed serial and the repeated one", got.Excluded)
	}
	for _, x := range got.Excluded {
		if x.Reason != records.ExcludedReplayed {
			t.Fatalf("excluded %+v", x)
		}
	}
	in := b2.input()
	for i, tot := range got.Accepted {
		want := in.Totals[i]
		switch {
		case tot.Node == "n1-orga" && tot.Publisher == orgA:
			want.Receipts, want.Bytes = want.Receipts-1, want.Bytes-100
		case tot.Node == "n2-orga" && tot.Publisher == orgB:
			want.Receipts, want.Bytes = want.Receipts-1, want.Bytes-201
		}
		if tot != want {
			t.Fatalf("accepted %+v, want %+v", tot, want)
		}
	}
	for _, p := range got.Payouts {
		if p.Bytes <= 0 {
			t.Fatalf("paid nothing: %+v", p)
		}
	}
}

func TestDeliveryForged(t *testing.T) {
	d := newDeliveryEnv(t)
	ep := d.epoch()
	other := newGateway(t, d.env, orgA, "User5@a")

	// A receipt signed by another key.
	b := d.standard(d.gwA, ep, "s")
	other.sign(t, &b.receipts[2])
	pending := d.mustCommit(d.gwA, b)
	_, err := d.prove(d.gwA, pending.ID, b.samples(pending.ID))
	wantCode(t, err, records.CodeInvalid, "signature is not the committing gateway's")

	// An unsigned one.
	s := b.samples(pending.ID)
	for i := range s {
		s[i].Receipt.Signature = nil
	}
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "not signed")

	// Receipts that are not the committed tree's.
	good := d.standard(d.gwA, ep, "s")
	_, err = d.prove(d.gwA, pending.ID, good.samples(pending.ID))
	wantCode(t, err, records.CodeInvalid, "is not in the tree")

	// Samples that are not the picked leaves, or not in their order.
	s = b.samples(pending.ID)
	s[0], s[1] = s[1], s[0]
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "want leaf")
	_, err = d.prove(d.gwA, pending.ID, b.samples(pending.ID)[1:])
	wantCode(t, err, records.CodeInvalid, "samples")

	// A receipt of another epoch or gateway, correctly in the tree.
	b3 := d.standard(other, ep, "o")
	b3.receipts[1] = other.receipt(t, ep-1, "o-x", d.ma, 1, "n2-orga", 200)
	p3 := d.mustCommit(other, b3)
	_, err = d.prove(other, p3.ID, b3.samples(p3.ID))
	wantCode(t, err, records.CodeInvalid, "not the batch's")

	// Totals that do not count a sampled receipt.
	b4 := d.standard(d.gwB, ep, "u")
	in := b4.input()
	in.Totals[0].Node, in.Totals[1].Node = "n1-orga", "n1-orga"
	in.Totals[1].Publisher = "OrgCMSP"
	p4, err := as(d.env, d.gwB.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.prove(d.gwB, p4.ID, b4.samples(p4.ID))
	wantCode(t, err, records.CodeInvalid, "not counted in the totals")

	// Every refusal left the batches pending and paid nothing.
	for _, id := range []string{pending.ID, p3.ID, p4.ID} {
		got := must(d.env, orgA, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Batch(ctx, id) })
		if got.Status != records.BatchPending || len(got.Payouts) != 0 {
			t.Fatalf("after refusals: %+v", got)
		}
	}
	if d.serialPaid(d.gwA, "s-0-0") {
		t.Fatal("a refused batch recorded a serial")
	}
	// The same receipts, correctly signed, are accepted.
	honest := &batch{epoch: ep - 1, receipts: resign(t, d.gwA, b.receipts, ep-1), publisher: d.pub}
	fixed := d.mustCommit(d.gwA, honest)
	if got := d.mustProve(d.gwA, fixed.ID, honest.samples(fixed.ID)); got.Status != records.BatchAccepted {
		t.Fatalf("honest batch: %+v", got)
	}
}

// resign returns rs for epoch ep, signed by g.
func resign(t *testing.T, g gateway, rs []records.Receipt, ep int64) []records.Receipt {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Epoch = ep
		out[i].Gateway, out[i].GatewayMSP = g.hash(), g.msp
		g.sign(t, &out[i])
	}
	return out
}

func TestDeliveryWindowAndOverlap(t *testing.T) {
	d := newDeliveryEnv(t)
	ep := d.epoch()

	old := d.standard(d.gwA, ep-records.SubmissionEpochs-1, "x")
	_, err := d.commit(d.gwA, old)
	wantCode(t, err, records.CodeFailedPrecondition, "expired")
	future := d.standard(d.gwA, ep+1, "x")
	_, err = d.commit(d.gwA, future)
	wantCode(t, err, records.CodeInvalid, "future")

	// The oldest epoch of the window is fine.
	edge := d.standard(d.gwA, ep-records.SubmissionEpochs, "e")
	d.mustCommit(d.gwA, edge)

	b := d.standard(d.gwA, ep, "s")
	first := d.mustCommit(d.gwA, b)
	// A second, different batch of the same gateway and epoch overlaps.
	b2 := d.standard(d.gwA, ep, "s")
	b2.receipts = b2.receipts[:5]
	_, err = d.commit(d.gwA, b2)
	wantCode(t, err, records.CodeConflict, "overlaps")
	// Another gateway of the same organisation has its own batches.
	other := newGateway(t, d.env, orgA, "User6@a")
	d.mustCommit(other, d.standard(other, ep, "o"))

	// Commit takes no samples; totals must name registered nodes.
	in := b.input()
	in.Epoch = ep - 1
	in.Samples = b.samples("x")
	_, err = as(d.env, d.gwA.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
	wantCode(t, err, records.CodeInvalid, "no samples")
	in = b.input()
	in.Epoch = ep - 1
	in.Totals[0].Node = "ghost-orga"
	_, err = as(d.env, d.gwA.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
	wantCode(t, err, records.CodeNotFound, "ghost-orga")

	// A pending batch expires with its window: its Prove is refused.
	d.ledger.Advance(time.Duration(records.SubmissionEpochs+1) * time.Duration(records.EpochSeconds) * time.Second)
	_, err = d.prove(d.gwA, first.ID, b.samples(first.ID))
	wantCode(t, err, records.CodeFailedPrecondition, "expired")
}

func TestDeliveryAccess(t *testing.T) {
	d := newDeliveryEnv(t)
	ep := d.epoch()
	b := d.standard(d.gwA, ep, "s")
	in := b.input()
	publisher := newMember(t, orgA, "User1@a", "client")
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Identity, error) {
		return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: publisher.pem, Roles: []records.Role{records.RolePublisher}}))
	})
	for _, m := range []member{publisher, {msp: orgA, cert: d.ledger.AdminCert(orgA)}} {
		_, err := as(d.env, m, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
		wantCode(t, err, records.CodeForbidden, "needs the role gateway")
	}
	pending := d.mustCommit(d.gwA, b)
	// Another gateway, of the same or another organisation, cannot prove
	// it, even with the committer's valid samples.
	other := newGateway(t, d.env, orgA, "User7@a")
	for _, g := range []gateway{other, d.gwB} {
		_, err := d.prove(g, pending.ID, b.samples(pending.ID))
		wantCode(t, err, records.CodeForbidden, "did not commit")
	}
	_, err := as(d.env, publisher, func(ctx *fakes.Context) (*records.Batch, error) {
		return d.dl.Prove(ctx, pending.ID, toJSON(t, b.samples(pending.ID)))
	})
	wantCode(t, err, records.CodeForbidden, "needs the role gateway")
	_, err = d.prove(d.gwA, "tx9999", b.samples(pending.ID))
	wantCode(t, err, records.CodeNotFound, "does not exist")
}

func TestDeliveryExclusions(t *testing.T) {
	d := newDeliveryEnv(t)
	// n3 stops serving; shard 0 of a/app.js moves from n1 to n4 by a
	// repair, one epoch later.
	gone := d.record(orgA, "a/old.js", "1")
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return d.man.Purge(ctx, "a/old.js", "1", "withdrawn")
	})
	d.pub[gone.Name] = orgA
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return d.node.Deactivate(ctx, "n3-orga", "retired") })
	ep := d.nextEpoch()
	d.nextEpoch()
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return d.man.UpdateHolders(ctx, d.ma.Name, d.ma.Version, "0", `["n1-orga"]`, `["n4-orga"]`)
	})
	g := d.gwA
	b := &batch{epoch: ep, publisher: d.pub}
	add := func(serial string, m *records.Manifest, shard int, node string, n int64, mutate ...func(*records.Receipt)) {
		r := g.receipt(t, ep, serial, m, shard, node, n)
		for _, f := range mutate {
			f(&r)
			g.sign(t, &r)
		}
		b.receipts = append(b.receipts, r)
	}
	add("ok-1", d.ma, 0, "n1-orga", 10)        // a holder then, moved since: paid
	add("ok-2", d.mb, 1, "n2-orga", 20)        // paid
	add("moved-in", d.ma, 0, "n4-orga", 40)    // holder only after the epoch
	add("inactive", d.mb, 2, "n3-orga", 80)    // deactivated before the epoch
	add("not-holder", d.mb, 0, "n2-orga", 160) // never held shard 0
	add("hash", d.ma, 1, "n2-orga", 320, func(r *records.Receipt) { r.ShardHash = digest("other") })
	add("unknown", d.ma, 1, "n2-orga", 640, func(r *records.Receipt) { r.Version = "9" })
	add("purged", gone, 1, "n2-orga", 1280)
	in := b.input()
	pending := d.mustCommit(g, b)
	got := d.mustProve(g, pending.ID, b.samples(pending.ID))
	if got.Status != records.BatchAccepted {
		t.Fatalf("status %s", got.Status)
	}
	reasons := map[string]string{}
	for _, x := range got.Excluded {
		reasons[x.Serial] = x.Reason
	}
	want := map[string]string{
		"moved-in": records.ExcludedUnassigned, "inactive": records.ExcludedInactive, "not-holder": records.ExcludedUnassigned,
		"hash": records.ExcludedShardHash, "unknown": records.ExcludedManifest, "purged": records.ExcludedManifest,
	}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Fatalf("excluded %v, want %v", reasons, want)
	}
	paid := map[string]int64{}
	for _, p := range got.Payouts {
		paid[p.Ref[len(pending.ID)+1:]] = p.Bytes
	}
	wantPaid := map[string]int64{"n1-orga/" + orgA: 10, "n2-orga/" + orgB: 20}
	if fmt.Sprint(paid) != fmt.Sprint(wantPaid) {
		t.Fatalf("paid %v, want %v (totals %+v, accepted %+v)", paid, wantPaid, in.Totals, got.Accepted)
	}
	if !d.serialPaid(g, "ok-1") || d.serialPaid(g, "hash") {
		t.Fatal("serials recorded wrongly")
	}
}

func TestReceiptSignatureEd25519(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	r := records.Receipt{Serial: "s1", GatewayMSP: orgA, Gateway: digest("gw"), Epoch: 1, Object: "a/b", Version: "1",
		ShardHash: digest("h"), Node: "n1-orga", Bytes: 1, Request: "r"}
	r.Signature = ed25519.Sign(priv, r.SigningBytes())
	if err := verifyReceiptSignature(cert, &r); err != nil {
		t.Fatal(err)
	}
	r.Bytes = 2
	if err := verifyReceiptSignature(cert, &r); err == nil {
		t.Fatal("a changed receipt verifies")
	}
}
