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
	return records.Receipt{Serial: serial, GatewayMSP: g.msp, Gateway: g.hash(), Epoch: epoch, Object: m.Name, Version: m.Version,
		Shard: shard, ShardHash: m.Shards[shard].Hash, Node: node, Offset: 0, Bytes: n, Request: "req-" + serial}
}

// batch is a gateway's log of receipts of one epoch: gw seals them in
// group commits of group receipts (4 when 0), as the gateway's log does.
type batch struct {
	epoch    int64
	receipts []records.Receipt
	// publisher of each object name, for the totals.
	publisher map[string]string
	gw        gateway
	group     int
	// sealKey, when set, signs the seals instead of gw's key (a forger).
	sealKey *ecdsa.PrivateKey
}

func (b *batch) leaves() [][]byte {
	var out [][]byte
	for i := range b.receipts {
		out = append(out, b.receipts[i].LeafData())
	}
	return out
}

// sealed returns every receipt with the seal of its group and its proof
// in the group.
func (b *batch) sealed(t *testing.T) []records.SealedReceipt {
	t.Helper()
	g := b.group
	if g == 0 {
		g = 4
	}
	key := b.gw.key
	if b.sealKey != nil {
		key = b.sealKey
	}
	var out []records.SealedReceipt
	for start := 0; start < len(b.receipts); start += g {
		rs := b.receipts[start:min(start+g, len(b.receipts))]
		var leaves [][]byte
		for i := range rs {
			leaves = append(leaves, rs[i].LeafData())
		}
		seal := records.Seal{GatewayMSP: b.gw.msp, Gateway: b.gw.hash(), Epoch: b.epoch, Group: int64(start / g),
			Root: hex.EncodeToString(mthOf(leaves)), Size: int64(len(rs))}
		sig, err := ecdsa.SignASN1(rand.Reader, key, seal.SealDigest())
		if err != nil {
			t.Fatal(err)
		}
		seal.Signature = sig
		for i := range rs {
			out = append(out, records.SealedReceipt{Receipt: rs[i], Seal: seal, GroupIndex: int64(i), GroupProof: auditPath(i, leaves)})
		}
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

// samples returns the leaves SampleIndices(id) picks, with their seals
// and proofs.
func (b *batch) samples(t *testing.T, id string) []records.SampledLeaf {
	leaves := b.leaves()
	sealed := b.sealed(t)
	var out []records.SampledLeaf
	for _, i := range records.SampleIndices(id, int64(len(leaves))) {
		out = append(out, records.SampledLeaf{Index: i, SealedReceipt: sealed[i], Proof: auditPath(int(i), leaves)})
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
	next := records.EpochStart(records.EpochOf(now, records.DefaultEpochSeconds)+1, records.DefaultEpochSeconds).Add(time.Second)
	d.ledger.Advance(next.Sub(now))
	return records.EpochOf(d.ledger.Now(), records.DefaultEpochSeconds)
}

func (d *deliveryEnv) epoch() int64 {
	return records.EpochOf(d.ledger.Now(), records.DefaultEpochSeconds)
}

// standard returns a batch of g with six receipts: every shard of both
// objects, each from its holder.
func (d *deliveryEnv) standard(g gateway, epoch int64, prefix string) *batch {
	b := &batch{epoch: epoch, publisher: d.pub, gw: g}
	for i, m := range []*records.Manifest{d.ma, d.mb} {
		for s := range 3 {
			b.receipts = append(b.receipts, g.receipt(d.t, epoch, fmt.Sprintf("%s-%d-%d", prefix, i, s), m, s, m.Shards[s].Nodes[0], int64(100*(s+1)+i)))
		}
	}
	return b
}

func (d *deliveryEnv) commit(g gateway, b *batch) (*records.Batch, error) {
	d.t.Helper()
	if b.gw.key == nil {
		b.gw = g // the committing gateway sealed its log
	}
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

	got := d.mustProve(d.gwA, pending.ID, b.samples(t, pending.ID))
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
		return d.dl.Prove(ctx, pending.ID, toJSON(t, b.samples(t, pending.ID)))
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
	if ep.Seconds != records.DefaultEpochSeconds || ep.Window != records.SubmissionEpochs || ep.Start == "" {
		t.Fatalf("epoch = %+v", ep)
	}
	return ep
}

func TestDeliveryReplay(t *testing.T) {
	d := newDeliveryEnv(t)
	e1 := d.epoch()
	b1 := d.standard(d.gwA, e1, "s")
	id1 := d.mustCommit(d.gwA, b1).ID
	d.mustProve(d.gwA, id1, b1.samples(t, id1))

	// The next epoch's batch replays serial s-0-0 (re-signed for the new
	// epoch) and repeats s-1-1 twice in itself.
	e2 := d.nextEpoch()
	b2 := d.standard(d.gwA, e2, "t")
	b2.receipts[0] = d.gwA.receipt(t, e2, "s-0-0", d.ma, 0, "n1-orga", 100)
	b2.receipts[5] = d.gwA.receipt(t, e2, "t-1-1", d.mb, 1, "n2-orga", 201)
	id2 := d.mustCommit(d.gwA, b2).ID
	got := d.mustProve(d.gwA, id2, b2.samples(t, id2))
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
	b := d.standard(d.gwA, ep, "s")
	pending := d.mustCommit(d.gwA, b)

	// Seals signed by another key (a registered gateway's), naming the
	// committer.
	b.sealKey = other.key
	_, err := d.prove(d.gwA, pending.ID, b.samples(t, pending.ID))
	wantCode(t, err, records.CodeInvalid, "signature is not the committing gateway's")
	b.sealKey = nil

	// Unsigned seals.
	s := b.samples(t, pending.ID)
	for i := range s {
		s[i].Seal.Signature = nil
	}
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "not signed")

	// A forged seal: the group rebuilt around a changed receipt (a root the
	// gateway never signed), with the gateway's signature of the real one.
	s = b.samples(t, pending.ID)
	forged := &batch{epoch: ep, receipts: slices.Clone(b.receipts), gw: d.gwA, group: len(b.receipts)}
	forged.receipts[s[0].Index].Bytes = 1 << 30
	fs := forged.sealed(t)[s[0].Index]
	fs.Seal.Signature = s[0].Seal.Signature
	s[0].SealedReceipt = fs
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "signature is not the committing gateway's")

	// A seal whose size or group number was changed after signing.
	for _, mutate := range []func(*records.Seal){
		func(x *records.Seal) { x.Group++ },
		func(x *records.Seal) { x.Size = 2 * x.Size },
	} {
		s = b.samples(t, pending.ID)
		mutate(&s[1].Seal)
		_, err = d.prove(d.gwA, pending.ID, s)
		wantCode(t, err, records.CodeInvalid, "rejected")
	}

	// A wrong group proof, a wrong index in the group, a group proof of
	// another receipt.
	s = b.samples(t, pending.ID)
	s[2].GroupProof = slices.Clone(s[2].GroupProof)
	s[2].GroupProof[0] = records.LeafHash([]byte("x"))
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "not in the group")
	s = b.samples(t, pending.ID)
	s[2].GroupIndex ^= 1
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "not in the group")
	s = b.samples(t, pending.ID)
	s[0].GroupProof, s[1].GroupProof = s[1].GroupProof, s[0].GroupProof
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "not in the group")

	// A seal that names another gateway or epoch than its receipts.
	s = b.samples(t, pending.ID)
	s[0].Seal.Epoch--
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "does not name")

	// A receipt changed after it was sealed (its bytes inflated).
	s = b.samples(t, pending.ID)
	s[3].Receipt.Bytes *= 10
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "not in the group")

	// Correctly sealed receipts that are not the committed tree's.
	good := d.standard(d.gwA, ep, "z")
	_, err = d.prove(d.gwA, pending.ID, good.samples(t, pending.ID))
	wantCode(t, err, records.CodeInvalid, "is not in the tree")

	// Samples that are not the picked leaves, or not in their order.
	s = b.samples(t, pending.ID)
	s[0], s[1] = s[1], s[0]
	_, err = d.prove(d.gwA, pending.ID, s)
	wantCode(t, err, records.CodeInvalid, "want leaf")
	_, err = d.prove(d.gwA, pending.ID, b.samples(t, pending.ID)[1:])
	wantCode(t, err, records.CodeInvalid, "samples")

	// A receipt of another epoch or gateway, correctly in the tree.
	b3 := d.standard(other, ep, "o")
	b3.receipts[1] = other.receipt(t, ep-1, "o-x", d.ma, 1, "n2-orga", 200)
	p3 := d.mustCommit(other, b3)
	_, err = d.prove(other, p3.ID, b3.samples(t, p3.ID))
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
	_, err = d.prove(d.gwB, p4.ID, b4.samples(t, p4.ID))
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
	// The same batch, honestly sealed, is accepted.
	if got := d.mustProve(d.gwA, pending.ID, b.samples(t, pending.ID)); got.Status != records.BatchAccepted || len(got.Excluded) != 0 {
		t.Fatalf("honest batch: %+v", got)
	}
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
	in.Samples = b.samples(t, "x")
	_, err = as(d.env, d.gwA.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
	wantCode(t, err, records.CodeInvalid, "no samples")
	in = b.input()
	in.Epoch = ep - 1
	in.Totals[0].Node = "ghost-orga"
	_, err = as(d.env, d.gwA.member, func(ctx *fakes.Context) (*records.Batch, error) { return d.dl.Commit(ctx, toJSON(t, in)) })
	wantCode(t, err, records.CodeNotFound, "ghost-orga")

	// A pending batch expires with its window: its Prove is refused.
	d.ledger.Advance(time.Duration(records.SubmissionEpochs+1) * time.Duration(records.DefaultEpochSeconds) * time.Second)
	_, err = d.prove(d.gwA, first.ID, b.samples(t, first.ID))
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
		_, err := d.prove(g, pending.ID, b.samples(t, pending.ID))
		wantCode(t, err, records.CodeForbidden, "did not commit")
	}
	_, err := as(d.env, publisher, func(ctx *fakes.Context) (*records.Batch, error) {
		return d.dl.Prove(ctx, pending.ID, toJSON(t, b.samples(t, pending.ID)))
	})
	wantCode(t, err, records.CodeForbidden, "needs the role gateway")
	_, err = d.prove(d.gwA, "tx9999", b.samples(t, pending.ID))
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
	b := &batch{epoch: ep, publisher: d.pub, gw: g, group: 3}
	add := func(serial string, m *records.Manifest, shard int, node string, n int64, mutate ...func(*records.Receipt)) {
		r := g.receipt(t, ep, serial, m, shard, node, n)
		for _, f := range mutate {
			f(&r)
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
	got := d.mustProve(g, pending.ID, b.samples(t, pending.ID))
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

// TestSealEd25519: a gateway whose certificate has an Ed25519 key seals
// its groups with it.
func TestSealEd25519(t *testing.T) {
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
	r := records.Receipt{Serial: "s1", GatewayMSP: orgA, Gateway: records.CertHash(cert), Epoch: 1, Object: "a/b", Version: "1",
		ShardHash: digest("h"), Node: "n1-orga", Bytes: 1, Request: "r"}
	seal := records.Seal{GatewayMSP: orgA, Gateway: r.Gateway, Epoch: 1, Root: hex.EncodeToString(records.LeafHash(r.LeafData())), Size: 1}
	seal.Signature = ed25519.Sign(priv, seal.SigningBytes())
	b := &records.Batch{ID: "tx1", GatewayMSP: orgA, Gateway: r.Gateway, Epoch: 1, Root: seal.Root, Size: 1}
	samples := []records.SampledLeaf{{Index: 0, SealedReceipt: records.SealedReceipt{Receipt: r, Seal: seal}}}
	if err := verifySamples(b, []int64{0}, samples, cert); err != nil {
		t.Fatal(err)
	}
	samples[0].Seal.Group = 1
	if err := verifySamples(b, []int64{0}, samples, cert); err == nil || !strings.Contains(err.Error(), "signature is not") {
		t.Fatalf("a changed seal: %v", err)
	}
}
