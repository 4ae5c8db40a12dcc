package contract

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// auctionEnv: nodes n1..n4 of org A and m1..m2 of org B, each with a
// standing sealed bid (storage price = 10·i for n_i, 100+i for m_i), a
// gateway of org B (the publisher), a node identity of n1-orga and a
// publisher of org A.
type auctionEnv struct {
	*env
	ac      *AuctionContract
	gwB     gateway
	gwA     gateway
	agentN1 member
	terms   map[string]records.BidTerms
	salts   map[string]string
}

func newAuctionEnv(t *testing.T) *auctionEnv {
	t.Helper()
	e := newEnv(t)
	a := &auctionEnv{env: e, ac: NewAuctionContract(), terms: map[string]records.BidTerms{}, salts: map[string]string{}}
	e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga", "n4-orga")
	e.registerNodes(orgB, "m1-orgb", "m2-orgb")
	a.gwB = newGateway(t, e, orgB, "gw.orgb")
	a.gwA = newGateway(t, e, orgA, "gw.orga")
	a.agentN1 = newMember(t, orgA, "agent.n1", "client")
	must(e, orgA, func(ctx *fakes.Context) (*records.Identity, error) {
		return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: a.agentN1.pem, Roles: []records.Role{records.RoleNode}, NodeID: "n1-orga"}))
	})
	for i, id := range []string{"n1-orga", "n2-orga", "n3-orga", "n4-orga"} {
		a.bid(orgA, id, int64(10*(i+1)))
	}
	for i, id := range []string{"m1-orgb", "m2-orgb"} {
		a.bid(orgB, id, int64(101+i))
	}
	return a
}

func (a *auctionEnv) sealed(id string, storage int64) records.BidInput {
	t := records.BidTerms{Node: id, StoragePerGBMonth: storage, DeliveryPerMiB: 1, CapacityBytes: 1 << 30, BandwidthBps: 1e9}
	salt := hex.EncodeToString([]byte(fmt.Sprintf("%-32s", id)))
	h, err := records.BidHash(t, salt)
	if err != nil {
		a.t.Fatal(err)
	}
	a.terms[id], a.salts[id] = t, salt
	return records.BidInput{Node: id, Hash: h}
}

func (a *auctionEnv) bid(msp, id string, storage int64) *records.SealedBid {
	a.t.Helper()
	in := a.sealed(id, storage)
	return must(a.env, msp, func(ctx *fakes.Context) (*records.SealedBid, error) { return a.ac.Bid(ctx, toJSON(a.t, in)) })
}

func (a *auctionEnv) as(m member) func(func(*fakes.Context) (*records.Auction, error)) (*records.Auction, error) {
	return func(fn func(*fakes.Context) (*records.Auction, error)) (*records.Auction, error) {
		return callCtx(a.env, a.ledger.NewContextAs(m.msp, m.cert), fn)
	}
}

func auctionJSON(t *testing.T, mutate ...func(*records.AuctionInput)) string {
	in := records.AuctionInput{Object: "b/site.css", Shards: 3, K: 2, ShardSize: 1000, TermSeconds: 86400, MaxStoragePerGBMonth: 1000, MaxDeliveryPerMiB: 10, RevealSeconds: 60}
	for _, f := range mutate {
		f(&in)
	}
	return toJSON(t, in)
}

func (a *auctionEnv) open(mutate ...func(*records.AuctionInput)) *records.Auction {
	a.t.Helper()
	au, err := a.as(a.gwB.member)(func(ctx *fakes.Context) (*records.Auction, error) { return a.ac.Open(ctx, auctionJSON(a.t, mutate...)) })
	if err != nil {
		a.t.Fatal(err)
	}
	return au
}

func (a *auctionEnv) revealJSON(auction, id string) string {
	return toJSON(a.t, records.RevealInput{Auction: auction, Terms: a.terms[id], Salt: a.salts[id]})
}

func (a *auctionEnv) reveal(ctx *fakes.Context, auction, id string) (*records.Reveal, error) {
	return callCtx(a.env, ctx, func(ctx *fakes.Context) (*records.Reveal, error) { return a.ac.Reveal(ctx, a.revealJSON(auction, id)) })
}

func (a *auctionEnv) revealAll(auction string) {
	a.t.Helper()
	for id := range a.terms {
		msp := orgA
		if strings.HasSuffix(id, "-orgb") {
			msp = orgB
		}
		if _, err := a.reveal(a.ledger.NewContext(msp), auction, id); err != nil {
			a.t.Fatalf("reveal %s: %v", id, err)
		}
	}
}

func (a *auctionEnv) clear(m member, id string) (*records.Auction, error) {
	return a.as(m)(func(ctx *fakes.Context) (*records.Auction, error) { return a.ac.Clear(ctx, id) })
}

func TestAuctionBidRefusals(t *testing.T) {
	a := newAuctionEnv(t)
	publisherA := newMember(t, orgA, "pub.a", "client")
	must(a.env, orgA, func(ctx *fakes.Context) (*records.Identity, error) {
		return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: publisherA.pem, Roles: []records.Role{records.RolePublisher}}))
	})
	must(a.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return a.node.Deactivate(ctx, "n4-orga", "leaving") })
	good := toJSON(t, a.sealed("n2-orga", 5))
	tests := []struct {
		name string
		who  member
		arg  string
		code records.Code
		msg  string
	}{
		{"wrong org", member{msp: orgB, cert: a.ledger.AdminCert(orgB)}, good, records.CodeForbidden, "belongs to OrgAMSP"},
		{"wrong role", publisherA, good, records.CodeForbidden, "needs the role admin or node"},
		{"another node's identity", a.agentN1, good, records.CodeForbidden, "may act only for it"},
		{"malformed", member{msp: orgA, cert: a.ledger.AdminCert(orgA)}, `{"node":"n2-orga","hash":"zz"}`, records.CodeInvalid, "hash"},
		{"unknown field", member{msp: orgA, cert: a.ledger.AdminCert(orgA)}, `{"node":"n2-orga","hash":"` + strings.Repeat("a", 64) + `","price":1}`, records.CodeInvalid, "unknown field"},
		{"over-limit opening", member{msp: orgA, cert: a.ledger.AdminCert(orgA)}, toJSON(t, records.BidInput{Node: "n2-orga", Hash: strings.Repeat("a", 64), Opening: strings.Repeat("A", records.MaxOpeningBytes+4)}), records.CodeInvalid, "opening must be at most"},
		{"unregistered node", member{msp: orgA, cert: a.ledger.AdminCert(orgA)}, toJSON(t, records.BidInput{Node: "n9-orga", Hash: strings.Repeat("a", 64)}), records.CodeNotFound, "not registered"},
		{"deactivated node", member{msp: orgA, cert: a.ledger.AdminCert(orgA)}, toJSON(t, records.BidInput{Node: "n4-orga", Hash: strings.Repeat("a", 64)}), records.CodeFailedPrecondition, "inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := callCtx(a.env, a.ledger.NewContextAs(tt.who.msp, tt.who.cert), func(ctx *fakes.Context) (*records.SealedBid, error) { return a.ac.Bid(ctx, tt.arg) })
			wantCode(t, err, tt.code, tt.msg)
		})
	}
	// The node's own identity may bid for it, and replaces the bid.
	b, err := callCtx(a.env, a.ledger.NewContextAs(orgA, a.agentN1.cert), func(ctx *fakes.Context) (*records.SealedBid, error) {
		return a.ac.Bid(ctx, toJSON(t, a.sealed("n1-orga", 7)))
	})
	if err != nil || b.Seq != 2 || b.Status != records.BidActive {
		t.Fatalf("own bid: %+v, %v", b, err)
	}
	// The bid's key needs the owner org's endorsement from now on.
	key, _ := records.BidKey("n1-orga")
	if a.ledger.ValidationParameter(key) == nil {
		t.Fatal("the bid has no key-level endorsement policy")
	}
	// Withdraw: refused to another org, then the bid leaves later auctions.
	_, err = callCtx(a.env, a.ledger.NewContext(orgB), func(ctx *fakes.Context) (*records.SealedBid, error) { return a.ac.Withdraw(ctx, "n1-orga") })
	wantCode(t, err, records.CodeForbidden, "belongs to OrgAMSP")
	must(a.env, orgA, func(ctx *fakes.Context) (*records.SealedBid, error) { return a.ac.Withdraw(ctx, "n1-orga") })
	_, err = call(a.env, orgA, func(ctx *fakes.Context) (*records.SealedBid, error) { return a.ac.Withdraw(ctx, "n1-orga") })
	wantCode(t, err, records.CodeFailedPrecondition, "already withdrawn")
	au := a.open()
	for _, b := range au.Bids {
		if b.Node == "n1-orga" || b.Node == "n4-orga" {
			t.Errorf("the auction snapshotted %s (withdrawn or inactive)", b.Node)
		}
	}
	if len(au.Bids) != 4 {
		t.Errorf("snapshot %+v, want n2, n3, m1, m2", au.Bids)
	}
}

func TestAuctionOpenRevealClear(t *testing.T) {
	a := newAuctionEnv(t)
	// Open: refusals.
	_, err := a.as(a.agentN1)(func(ctx *fakes.Context) (*records.Auction, error) { return a.ac.Open(ctx, auctionJSON(t)) })
	wantCode(t, err, records.CodeForbidden, "needs the role")
	_, err = a.as(a.gwB.member)(func(ctx *fakes.Context) (*records.Auction, error) {
		return a.ac.Open(ctx, auctionJSON(t, func(in *records.AuctionInput) { in.K = 1 }))
	})
	wantCode(t, err, records.CodeInvalid, "k must be")
	_, err = a.as(a.gwB.member)(func(ctx *fakes.Context) (*records.Auction, error) {
		return a.ac.Open(ctx, `{"object":"x","shards":3,"k":2,"bogus":1}`)
	})
	wantCode(t, err, records.CodeInvalid, "unknown field")

	au := a.open()
	if au.Status != records.AuctionOpen || au.Publisher != orgB || len(au.Bids) != 6 || au.ID != records.AuctionID(au.OpenTxID) {
		t.Fatalf("opened %+v", au)
	}
	evs := a.ledger.Events()
	last := evs[len(evs)-1]
	ev, err := records.DecodeAuctionEvent(last.Payload)
	if last.Name != records.AuctionEventName || err != nil || ev.Status != records.AuctionOpen || len(ev.Nodes) != 6 {
		t.Fatalf("open event %s %+v %v", last.Name, ev, err)
	}

	// Reveal: refusals.
	adminB := a.ledger.NewContext(orgB)
	_, err = a.reveal(adminB, au.ID, "n1-orga")
	wantCode(t, err, records.CodeForbidden, "belongs to OrgAMSP")
	_, err = a.reveal(a.ledger.NewContextAs(orgA, a.agentN1.cert), au.ID, "n2-orga")
	wantCode(t, err, records.CodeForbidden, "may reveal only its own bid")
	bad := records.RevealInput{Auction: au.ID, Terms: a.terms["n1-orga"], Salt: a.salts["n1-orga"]}
	bad.Terms.StoragePerGBMonth++
	_, err = call(a.env, orgA, func(ctx *fakes.Context) (*records.Reveal, error) { return a.ac.Reveal(ctx, toJSON(t, bad)) })
	wantCode(t, err, records.CodeInvalid, "do not match the sealed bid")
	_, err = call(a.env, orgA, func(ctx *fakes.Context) (*records.Reveal, error) {
		return a.ac.Reveal(ctx, a.revealJSON(records.AuctionID("nope"), "n1-orga"))
	})
	wantCode(t, err, records.CodeNotFound, "does not exist")
	_, err = call(a.env, orgA, func(ctx *fakes.Context) (*records.Reveal, error) { return a.ac.Reveal(ctx, `{"auction":"x"}`) })
	wantCode(t, err, records.CodeInvalid, "auction id")

	// The node's own identity and a gateway of the org may reveal.
	if _, err := a.reveal(a.ledger.NewContextAs(orgA, a.agentN1.cert), au.ID, "n1-orga"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.reveal(a.ledger.NewContextAs(orgA, a.gwA.cert), au.ID, "n2-orga"); err != nil {
		t.Fatal(err)
	}
	_, err = a.reveal(a.ledger.NewContext(orgA), au.ID, "n1-orga")
	wantCode(t, err, records.CodeConflict, "already revealed")

	// Clear: too early, wrong org.
	_, err = a.clear(a.gwB.member, au.ID)
	wantCode(t, err, records.CodeFailedPrecondition, "2 of 6 bids revealed")
	_, err = a.clear(a.gwA.member, au.ID)
	wantCode(t, err, records.CodeForbidden, "was opened by OrgBMSP")

	for _, id := range []string{"n3-orga", "n4-orga"} {
		if _, err := a.reveal(a.ledger.NewContext(orgA), au.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"m1-orgb", "m2-orgb"} {
		if _, err := a.reveal(a.ledger.NewContext(orgB), au.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.clear(a.gwB.member, au.ID)
	if err != nil {
		t.Fatal(err)
	}
	// n1..n3 are cheapest; n4 (40) is the first losing bid.
	if got.Status != records.AuctionCleared || fmt.Sprint(got.Placement()) != "[[n1-orga] [n2-orga] [n3-orga]]" || got.StoragePerGBMonth != 40 || got.DeliveryPerMiB != 1 {
		t.Fatalf("cleared %+v", got)
	}
	cs, err := a.ac.Contracts(a.ledger.NewContext(orgB), au.ID)
	if err != nil || len(cs) != 3 {
		t.Fatalf("contracts %v %v", cs, err)
	}
	for i, c := range cs {
		if c.Shard != i || c.Node != fmt.Sprintf("n%d-orga", i+1) || c.Org != orgA || c.Publisher != orgB || c.StoragePerGBMonth != 40 || c.Object != "b/site.css" {
			t.Errorf("contract %d: %+v", i, c)
		}
		start, _ := time.Parse(records.TimestampLayout, c.Start)
		end, _ := time.Parse(records.TimestampLayout, c.End)
		if end.Sub(start) != 86400*time.Second {
			t.Errorf("contract %d term %v", i, end.Sub(start))
		}
	}
	// Nothing more once cleared.
	_, err = a.clear(a.gwB.member, au.ID)
	wantCode(t, err, records.CodeFailedPrecondition, "already cleared")
	evs = a.ledger.Events()
	if ev, _ := records.DecodeAuctionEvent(evs[len(evs)-1].Payload); ev.Status != records.AuctionCleared {
		t.Errorf("clear event %+v", ev)
	}
	// A second auction: a reveal is refused once it cleared.
	au2 := a.open(func(in *records.AuctionInput) { in.RevealSeconds = 3 })
	a.ledger.Advance(5 * time.Second)
	got, err = a.clear(a.gwB.member, au2.ID) // deadline passed, no reveal
	if err != nil || got.Status != records.AuctionFailed || !strings.Contains(got.Failure, "6 were not revealed") {
		t.Fatalf("cleared without reveals: %+v %v", got, err)
	}
	if cs, _ := a.ac.Contracts(a.ledger.NewContext(orgB), au2.ID); len(cs) != 0 {
		t.Fatalf("a failed auction wrote contracts %v", cs)
	}
	_, err = a.reveal(a.ledger.NewContext(orgA), au2.ID, "n1-orga")
	wantCode(t, err, records.CodeFailedPrecondition, "is failed")
}

// A deadline clears with the bids revealed so far; the SLA score counts.
func TestAuctionDeadlineAndScore(t *testing.T) {
	a := newAuctionEnv(t)
	au := a.open(func(in *records.AuctionInput) { in.RevealSeconds = 10 })
	// n1 has a poor score (1000): its cost is (10+1)·10000/1000 = 110,
	// above n4's (40+1)·10000/8000 = 51 (unscored).
	key, _ := records.SLAScoreKey("n1-orga")
	stub := a.ledger.NewStub()
	data, _ := json.Marshal(records.SLAScore{Node: "n1-orga", Score: 1000, State: records.SLAStateWarning})
	if err := stub.PutState(key, data); err != nil {
		t.Fatal(err)
	}
	stub.Commit()
	for _, id := range []string{"n1-orga", "n2-orga", "n3-orga", "n4-orga"} {
		if _, err := a.reveal(a.ledger.NewContext(orgA), au.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.clear(a.gwB.member, au.ID)
	wantCode(t, err, records.CodeFailedPrecondition, "4 of 6 bids revealed")
	a.ledger.Advance(10 * time.Second)
	got, err := a.clear(a.gwB.member, au.ID)
	if err != nil {
		t.Fatal(err)
	}
	// n1 loses to n2, n3, n4; as the first losing bid it sets the price,
	// never below the highest winning bid (n4's 40).
	if fmt.Sprint(got.Placement()) != "[[n2-orga] [n3-orga] [n4-orga]]" || got.StoragePerGBMonth != 40 {
		t.Fatalf("cleared %v at %d", got.Placement(), got.StoragePerGBMonth)
	}
	// The clearing recorded what it read of each revealed bidder: n1's
	// stored score, the others unscored; with the reveals, that
	// recomputes the outcome exactly (dct audit verify-auction).
	if len(got.Inputs) != 4 || !got.Inputs[0].Scored || got.Inputs[0].Node != "n1-orga" || got.Inputs[0].Score != 1000 ||
		got.Inputs[0].State != records.SLAStateWarning || got.Inputs[1].Scored || got.Inputs[1].StorageBytes == 0 || got.Inputs[1].Status != records.NodeStatusActive {
		t.Fatalf("recorded inputs %+v", got.Inputs)
	}
	reveals, err := a.ac.Reveals(a.ledger.NewContext(orgB), au.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := a.ac.Get(a.ledger.NewContext(orgB), au.ID)
	if err != nil {
		t.Fatal(err)
	}
	re := records.ClearAuction(records.ClearInputOf(stored, reveals))
	if re.Failure != "" || fmt.Sprint(re.Awards) != fmt.Sprint(stored.Awards) || re.StoragePerGBMonth != stored.StoragePerGBMonth || re.DeliveryPerMiB != stored.DeliveryPerMiB {
		t.Fatalf("recomputed %+v, stored %+v", re, stored)
	}
}

// Bids of excluded nodes are not awaited: the auction clears once the
// others are revealed, and the excluded win nothing.
func TestAuctionExclude(t *testing.T) {
	a := newAuctionEnv(t)
	au := a.open(func(in *records.AuctionInput) { in.Exclude = []string{"n1-orga", "m1-orgb", "m2-orgb"} })
	evs := a.ledger.Events()
	if ev, _ := records.DecodeAuctionEvent(evs[len(evs)-1].Payload); fmt.Sprint(ev.Nodes) != "[n2-orga n3-orga n4-orga]" {
		t.Fatalf("open event awaits %v", ev.Nodes)
	}
	for _, id := range []string{"n2-orga", "n3-orga"} {
		if _, err := a.reveal(a.ledger.NewContext(orgA), au.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.clear(a.gwB.member, au.ID)
	wantCode(t, err, records.CodeFailedPrecondition, "2 of 3 bids revealed")
	for _, id := range []string{"n4-orga", "n1-orga"} {
		if _, err := a.reveal(a.ledger.NewContext(orgA), au.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.clear(a.gwB.member, au.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != records.AuctionCleared || fmt.Sprint(got.Placement()) != "[[n2-orga] [n3-orga] [n4-orga]]" {
		t.Fatalf("cleared %+v", got)
	}
}

// Deliveries of a publisher's content by a node with a contract for it
// are paid at the contracted delivery price; the others at the
// consortium price.
func TestDeliveryAtContractedPrice(t *testing.T) {
	d := newDeliveryEnv(t)
	ac := NewAuctionContract()
	must(d.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return NewTokenContract().SetPrice(ctx, 5) })
	terms := map[string]records.BidTerms{
		"n1-orga": {Node: "n1-orga", StoragePerGBMonth: 1, DeliveryPerMiB: 7, CapacityBytes: 1 << 30, BandwidthBps: 1e9},
		"n2-orga": {Node: "n2-orga", StoragePerGBMonth: 1, DeliveryPerMiB: 8, CapacityBytes: 1 << 30, BandwidthBps: 1e9},
		"n3-orga": {Node: "n3-orga", StoragePerGBMonth: 50, DeliveryPerMiB: 50, CapacityBytes: 1 << 30, BandwidthBps: 1e9},
	}
	salt := strings.Repeat("0f", records.BidSaltBytes)
	for _, tm := range terms {
		h, _ := records.BidHash(tm, salt)
		must(d.env, orgA, func(ctx *fakes.Context) (*records.SealedBid, error) {
			return ac.Bid(ctx, toJSON(t, records.BidInput{Node: tm.Node, Hash: h}))
		})
	}
	in := records.AuctionInput{Object: "b/site.css", Shards: 2, K: 2, ShardSize: 10, TermSeconds: 86400, MaxStoragePerGBMonth: 100, MaxDeliveryPerMiB: 100}
	au := must(d.env, orgB, func(ctx *fakes.Context) (*records.Auction, error) { return ac.Open(ctx, toJSON(t, in)) })
	for _, tm := range terms {
		must(d.env, orgA, func(ctx *fakes.Context) (*records.Reveal, error) {
			return ac.Reveal(ctx, toJSON(t, records.RevealInput{Auction: au.ID, Terms: tm, Salt: salt}))
		})
	}
	au = must(d.env, orgB, func(ctx *fakes.Context) (*records.Auction, error) { return ac.Clear(ctx, au.ID) })
	// n1 and n2 win at the first losing bid's delivery price, n3's 50.
	if au.Status != records.AuctionCleared || au.DeliveryPerMiB != 50 {
		t.Fatalf("cleared %+v", au)
	}
	ep := records.EpochOf(d.ledger.Now(), records.DefaultEpochSeconds)
	b := d.standard(d.gwA, ep, "c")
	pending := d.mustCommit(d.gwA, b)
	got := d.mustProve(d.gwA, pending.ID, b.samples(t, pending.ID))
	seen := 0
	for _, p := range got.Payouts {
		node := strings.Split(p.Ref, "/")[1]
		want, contract := int64(5), ""
		if p.Payer == orgB && (node == "n1-orga" || node == "n2-orga") {
			want, contract = 50, au.ID
		}
		if p.PricePerMiB != want || p.Contract != contract {
			t.Errorf("payout %s: price %d contract %q, want %d %q", p.Ref, p.PricePerMiB, p.Contract, want, contract)
		}
		seen++
	}
	if seen != 6 {
		t.Fatalf("%d payouts, want 6", seen)
	}
}

// A manifest naming an auction is recorded only with its shards exactly
// on the contracted nodes, by the organisation that opened it, for its
// object, once cleared.
func TestRecordAsContracted(t *testing.T) {
	a := newAuctionEnv(t)
	au := a.open(func(in *records.AuctionInput) { in.Object = "b/site.css" })
	a.revealAll(au.ID)
	got, err := a.clear(a.gwB.member, au.ID)
	if err != nil || got.Status != records.AuctionCleared {
		t.Fatalf("cleared %+v, %v", got, err)
	}
	contracted := got.Placement() // [[n1-orga] [n2-orga] [n3-orga]]
	mk := func(mutate func(*records.Manifest)) string {
		m := manifest("b/site.css", "1", contracted[0][0], contracted[1][0], contracted[2][0])
		m.Auction = au.ID
		if mutate != nil {
			mutate(m)
		}
		return toJSON(t, m)
	}
	tests := []struct {
		name string
		msp  string
		arg  string
		code records.Code
		msg  string
	}{
		{"holders other than contracted", orgB, mk(func(m *records.Manifest) { m.Shards[0].Nodes, m.Shards[1].Nodes = m.Shards[1].Nodes, m.Shards[0].Nodes }), records.CodeInvalid, "contracted it to"},
		{"another object", orgB, mk(func(m *records.Manifest) { m.Name = "b/other.css" }), records.CodeInvalid, "is for b/site.css"},
		{"another organisation", orgA, mk(nil), records.CodeForbidden, "was opened by OrgBMSP"},
		{"unknown auction", orgB, mk(func(m *records.Manifest) { m.Auction = records.AuctionID("nope") }), records.CodeNotFound, "does not exist"},
		{"malformed auction id", orgB, mk(func(m *records.Manifest) { m.Auction = "x" }), records.CodeInvalid, "auction id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(a.env, tt.msp, func(ctx *fakes.Context) (*records.Manifest, error) { return a.man.Record(ctx, tt.arg) })
			wantCode(t, err, tt.code, tt.msg)
		})
	}
	m := must(a.env, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return a.man.Record(ctx, mk(nil)) })
	if m.Auction != au.ID {
		t.Fatalf("recorded %+v", m)
	}
	// An open (not cleared) auction places nothing.
	open := a.open(func(in *records.AuctionInput) { in.Object = "b/site.css" })
	_, err = call(a.env, orgB, func(ctx *fakes.Context) (*records.Manifest, error) {
		return a.man.Record(ctx, mk(func(m *records.Manifest) { m.Version, m.Auction = "2", open.ID }))
	})
	wantCode(t, err, records.CodeFailedPrecondition, "is open")
}

// A bid placed after an auction opened is not in it: its reveal is
// refused.
func TestAuctionLateBid(t *testing.T) {
	a := newAuctionEnv(t)
	au := a.open()
	a.registerNodes(orgA, "n5-orga")
	a.bid(orgA, "n5-orga", 1)
	_, err := a.reveal(a.ledger.NewContext(orgA), au.ID, "n5-orga")
	wantCode(t, err, records.CodeNotFound, "has no bid of node 'n5-orga'")
}
