package contract

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// lifecycleEnv: the auction environment with a cleared root auction of
// b/site.css (3 shards, k = 2, so one shard per node) placed on n1, n2, n3
// (the cheapest bids) and its manifest recorded by org B.
type lifecycleEnv struct {
	*auctionEnv
	root *records.Auction
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	t.Helper()
	a := newAuctionEnv(t)
	root := a.open()
	a.revealAll(root.ID)
	root, err := a.clear(a.gwB.member, root.ID)
	if err != nil || fmt.Sprint(root.Placement()) != "[[n1-orga] [n2-orga] [n3-orga]]" {
		t.Fatalf("root auction %+v, %v", root, err)
	}
	m := manifest("b/site.css", "1", "n1-orga", "n2-orga", "n3-orga")
	m.Auction = root.ID
	must(a.env, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return a.man.Record(ctx, toJSON(t, m)) })
	return &lifecycleEnv{auctionEnv: a, root: root}
}

func (l *lifecycleEnv) reopen(m member, in records.ReauctionInput) (*records.Auction, error) {
	return l.as(m)(func(ctx *fakes.Context) (*records.Auction, error) { return l.ac.Reopen(ctx, toJSON(l.t, in)) })
}

// revealSome reveals the snapshotted bids of the given nodes.
func (l *lifecycleEnv) revealSome(auction string, ids ...string) {
	l.t.Helper()
	for _, id := range ids {
		msp := orgA
		if id[len(id)-4:] == "orgb" {
			msp = orgB
		}
		if _, err := l.reveal(l.ledger.NewContext(msp), auction, id); err != nil {
			l.t.Fatalf("reveal %s: %v", id, err)
		}
	}
}

func (l *lifecycleEnv) setScore(node string, score int64, state records.SLAState) {
	l.t.Helper()
	key, _ := records.SLAScoreKey(node)
	stub := l.ledger.NewStub()
	data, _ := json.Marshal(records.SLAScore{Node: node, Epoch: 1, Score: score, State: state})
	if err := stub.PutState(key, data); err != nil {
		l.t.Fatal(err)
	}
	stub.Commit()
}

func (l *lifecycleEnv) holdings() map[string]*records.Holding {
	l.t.Helper()
	hs, err := l.ac.Holdings(l.ledger.NewContext(orgB), l.root.ID)
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[string]*records.Holding{}
	for _, h := range hs {
		out[fmt.Sprintf("%d/%s", h.Shard, h.Node)] = h
	}
	return out
}

// Re-auctions are refused to other organisations and roles, for a healthy
// node, for a node holding nothing, before the renewal window, and for
// malformed input; the ledger state decides, not the caller.
func TestReauctionRefusals(t *testing.T) {
	l := newLifecycleEnv(t)
	l.setScore("n2-orga", 5000, records.SLAStateWarning) // warned, still in its grace period
	must(l.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return l.node.Deactivate(ctx, "n4-orga", "leaving") })
	publisherA := newMember(t, orgA, "pub.a", "client")
	must(l.env, orgA, func(ctx *fakes.Context) (*records.Identity, error) {
		return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: publisherA.pem, Roles: []records.Role{records.RolePublisher}}))
	})
	in := func(node string, reason records.EndReason) records.ReauctionInput {
		return records.ReauctionInput{Root: l.root.ID, Node: node, Reason: reason}
	}
	tests := []struct {
		name string
		who  member
		in   records.ReauctionInput
		code records.Code
		msg  string
	}{
		{"node identity", l.agentN1, in("n1-orga", records.EndInactive), records.CodeForbidden, "needs the role"},
		{"another organisation's gateway", l.gwA.member, in("n1-orga", records.EndInactive), records.CodeForbidden, "are OrgBMSP's"},
		{"another organisation's publisher", publisherA, in("n1-orga", records.EndInactive), records.CodeForbidden, "are OrgBMSP's"},
		{"healthy node, reason inactive", l.gwB.member, in("n1-orga", records.EndInactive), records.CodeFailedPrecondition, "is active"},
		{"unscored node, reason score", l.gwB.member, in("n1-orga", records.EndScore), records.CodeFailedPrecondition, "penalized below their floor 7500"},
		{"warned node in its grace period", l.gwB.member, in("n2-orga", records.EndScore), records.CodeFailedPrecondition, "scores 5000 (warning)"},
		{"inactive node holding nothing", l.gwB.member, in("n4-orga", records.EndInactive), records.CodeFailedPrecondition, "no live contract"},
		{"renewal before its window", l.gwB.member, in("", records.EndRenewed), records.CodeFailedPrecondition, "renewal window"},
		{"renewal naming a node", l.gwB.member, in("n1-orga", records.EndRenewed), records.CodeInvalid, "names no node"},
		{"score without a node", l.gwB.member, in("", records.EndScore), records.CodeInvalid, "names the node"},
		{"unknown reason", l.gwB.member, in("n1-orga", "bored"), records.CodeInvalid, "reason must be"},
		{"unknown root", l.gwB.member, records.ReauctionInput{Root: records.AuctionID("nope"), Node: "n1-orga", Reason: records.EndInactive}, records.CodeNotFound, "does not exist"},
		{"malformed root", l.gwB.member, records.ReauctionInput{Root: "x", Node: "n1-orga", Reason: records.EndInactive}, records.CodeInvalid, "auction id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.reopen(tt.who, tt.in)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
	_, err := l.as(l.gwB.member)(func(ctx *fakes.Context) (*records.Auction, error) {
		return l.ac.Reopen(ctx, `{"root":"`+l.root.ID+`","node":"n1-orga","reason":"inactive","extra":1}`)
	})
	wantCode(t, err, records.CodeInvalid, "unknown field")
	// Nothing was written: every holding is live.
	for k, h := range l.holdings() {
		if !h.Live() {
			t.Errorf("holding %s ended by a refused re-auction: %+v", k, h)
		}
	}
}

// A deactivated holder and a penalized one lose their contracts to the
// re-auctions' winners under the placement rules; the old contracts end
// at the clearing, once (a second termination is refused), and the
// clearing is recomputable offline.
func TestReauctionMovesContracts(t *testing.T) {
	l := newLifecycleEnv(t)
	must(l.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return l.node.Deactivate(ctx, "n1-orga", "leaving") })
	re, err := l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Node: "n1-orga", Reason: records.EndInactive, RevealSeconds: 30})
	if err != nil {
		t.Fatal(err)
	}
	if re.Replaces == nil || fmt.Sprint(re.Replaces.Replaced) != "[{0 n1-orga}]" || fmt.Sprint(re.Replaces.Held) != "[{1 n2-orga} {2 n3-orga}]" || re.Slots() != 1 || re.Root() != l.root.ID {
		t.Fatalf("re-auction %+v", re.Replaces)
	}
	// One re-auction of a placement at a time (gateways racing).
	_, err = l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Node: "n1-orga", Reason: records.EndInactive})
	wantCode(t, err, records.CodeConflict, "is open")
	// A re-auction is not a root.
	_, err = l.reopen(l.gwB.member, records.ReauctionInput{Root: re.ID, Node: "n1-orga", Reason: records.EndInactive})
	wantCode(t, err, records.CodeInvalid, "is a re-auction")

	l.revealSome(re.ID, "n2-orga", "n3-orga", "n4-orga", "m1-orgb", "m2-orgb")
	got, err := l.clear(l.gwB.member, re.ID)
	if err != nil {
		t.Fatal(err)
	}
	// n2 and n3 hold one shard each, the most a node may (k = 2): n4,
	// the next cheapest, wins shard 0.
	if got.Status != records.AuctionCleared || fmt.Sprint(got.Awards) != "[{0 n4-orga}]" {
		t.Fatalf("re-auction cleared %+v (%s)", got.Awards, got.Failure)
	}
	hs := l.holdings()
	old, nw := hs["0/n1-orga"], hs["0/n4-orga"]
	if old == nil || old.Live() || old.EndReason != records.EndInactive || old.Successor != re.ID || old.EndedAt != got.ClearedAt {
		t.Fatalf("old holding %+v", old)
	}
	if nw == nil || !nw.Live() || nw.Auction != re.ID || nw.Root != l.root.ID {
		t.Fatalf("new holding %+v", nw)
	}
	cs, _ := l.ac.Contracts(l.ledger.NewContext(orgB), l.root.ID)
	if cs[0].Node != "n1-orga" || cs[0].EndedAt != got.ClearedAt || cs[0].EndReason != records.EndInactive || cs[0].Successor != re.ID || cs[1].EndedAt != "" {
		t.Fatalf("root contracts %+v", cs)
	}
	ncs, _ := l.ac.Contracts(l.ledger.NewContext(orgB), re.ID)
	if len(ncs) != 1 || ncs[0].Node != "n4-orga" || ncs[0].Root != l.root.ID || ncs[0].SLAFloor != records.DefaultSLAFloor {
		t.Fatalf("re-auction contracts %+v", ncs)
	}
	// Double termination.
	_, err = l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Node: "n1-orga", Reason: records.EndInactive})
	wantCode(t, err, records.CodeFailedPrecondition, "no live contract")
	// The offline recomputation of the re-auction matches.
	reveals, _ := l.ac.Reveals(l.ledger.NewContext(orgB), re.ID)
	stored, _ := l.ac.Get(l.ledger.NewContext(orgB), re.ID)
	if rc := records.ClearAuction(records.ClearInputOf(stored, reveals)); fmt.Sprint(rc.Awards) != fmt.Sprint(stored.Awards) || rc.StoragePerGBMonth != stored.StoragePerGBMonth {
		t.Fatalf("recomputed %+v, stored %+v", rc.Awards, stored.Awards)
	}

	// n2, the cheapest bidder left, is penalized below the floor: it
	// loses shard 1 and cannot win it back; n3 and n4 are full, so m1.
	l.setScore("n2-orga", 2000, records.SLAStatePenalized)
	re2, err := l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Node: "n2-orga", Reason: records.EndScore})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(re2.Replaces.Held) != "[{0 n4-orga} {2 n3-orga}]" {
		t.Fatalf("held %v", re2.Replaces.Held)
	}
	// Its score recovers before the clearing: it still cannot win back
	// the contract it lost (without the bar it would: cheapest, no shard).
	l.setScore("n2-orga", 9000, records.SLAStateOK)
	l.revealSome(re2.ID, "n2-orga", "n3-orga", "n4-orga", "m1-orgb", "m2-orgb")
	got2, err := l.clear(l.gwB.member, re2.ID)
	if err != nil || fmt.Sprint(got2.Awards) != "[{1 m1-orgb}]" {
		t.Fatalf("score re-auction %+v %v (%s)", got2.Awards, err, got2.Failure)
	}
	hs = l.holdings()
	if h := hs["1/n2-orga"]; h.Live() || h.EndReason != records.EndScore {
		t.Fatalf("n2's holding %+v", h)
	}
	// n2's contracted price for org B's content ends with it.
	pkey, _ := records.CompositeKey(records.ContractPriceKeyType, orgB, "n2-orga")
	data, _ := l.ledger.Get(pkey)
	var cp records.ContractPrice
	if err := json.Unmarshal(data, &cp); err != nil || cp.End != got2.ClearedAt {
		t.Fatalf("n2's contract price %+v %v", cp, err)
	}
}

// A renewal re-auctions, within the last tenth of the term, every holding
// whose term ends; incumbents bid like anyone and keep what they win.
func TestReauctionRenewal(t *testing.T) {
	l := newLifecycleEnv(t)
	l.ledger.Advance(86400*9/10*time.Second - time.Minute)
	_, err := l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Reason: records.EndRenewed})
	wantCode(t, err, records.CodeFailedPrecondition, "renewal window")
	l.ledger.Advance(2 * time.Minute)
	re, err := l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Reason: records.EndRenewed})
	if err != nil {
		t.Fatal(err)
	}
	if len(re.Replaces.Replaced) != 3 || len(re.Replaces.Held) != 0 || re.Slots() != 3 {
		t.Fatalf("renewal replaces %+v", re.Replaces)
	}
	l.revealAll(re.ID)
	got, err := l.clear(l.gwB.member, re.ID)
	if err != nil || fmt.Sprint(got.Placement()) != "[[n1-orga] [n2-orga] [n3-orga]]" {
		t.Fatalf("renewal %+v %v", got, err)
	}
	// The incumbents hold on under the new contracts, with a new term.
	for k, h := range l.holdings() {
		if !h.Live() || h.Auction != re.ID {
			t.Errorf("holding %s after renewal: %+v", k, h)
		}
	}
	cs, _ := l.ac.Contracts(l.ledger.NewContext(orgB), l.root.ID)
	for _, c := range cs {
		if c.EndReason != records.EndRenewed || c.Successor != re.ID {
			t.Errorf("old contract %+v", c)
		}
	}
	// Nothing is left to renew until the new terms near their end.
	_, err = l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Reason: records.EndRenewed})
	wantCode(t, err, records.CodeFailedPrecondition, "renewal window")
}

// Deliveries by a holder whose contract a re-auction ended are not paid
// from the next epoch on, even while the manifest still lists it; the
// epoch of the move is, and so is the new holder once recorded.
func TestPayoutsEndAtTheMove(t *testing.T) {
	l := newLifecycleEnv(t)
	must(l.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return l.node.Deactivate(ctx, "n1-orga", "leaving") })
	re, err := l.reopen(l.gwB.member, records.ReauctionInput{Root: l.root.ID, Node: "n1-orga", Reason: records.EndInactive})
	if err != nil {
		t.Fatal(err)
	}
	l.revealSome(re.ID, "n2-orga", "n3-orga", "n4-orga", "m1-orgb", "m2-orgb")
	got, err := l.clear(l.gwB.member, re.ID)
	if err != nil || got.Status != records.AuctionCleared {
		t.Fatalf("cleared %+v %v", got, err)
	}
	movedAt, _ := time.Parse(records.TimestampLayout, got.ClearedAt)
	before := records.EpochOf(movedAt, records.DefaultEpochSeconds)
	// A stale view: n1 reactivated, the manifest not yet moved.
	must(l.env, orgA, func(ctx *fakes.Context) (*records.Node, error) { return l.node.Reactivate(ctx, "n1-orga") })
	now := l.ledger.Now()
	l.ledger.Advance(records.EpochStart(records.EpochOf(now, records.DefaultEpochSeconds)+1, records.DefaultEpochSeconds).Sub(now) + time.Second)
	after := records.EpochOf(l.ledger.Now(), records.DefaultEpochSeconds)
	m, _ := l.man.Get(l.ledger.NewContext(orgB), "b/site.css", "1")
	check := func(epoch int64, node string) string {
		t.Helper()
		start := records.EpochStart(epoch, records.DefaultEpochSeconds)
		chk := &holderCheck{stub: l.ledger.NewStub(), start: start, end: records.EpochStart(epoch+1, records.DefaultEpochSeconds), manifests: map[string][]*records.Manifest{}, nodes: map[string][]*records.Node{}}
		r := &records.Receipt{Object: "b/site.css", Version: "1", Shard: 0, ShardHash: m.Shards[0].Hash, Node: node}
		_, reason, _, err := chk.check(r)
		if err != nil {
			t.Fatal(err)
		}
		return reason
	}
	tests := []struct {
		name  string
		epoch int64
		node  string
		want  string
	}{
		{"old holder, epoch of the move", before, "n1-orga", ""},
		{"old holder, after the move", after, "n1-orga", records.ExcludedContractEnded},
	}
	for _, tt := range tests {
		if got := check(tt.epoch, tt.node); got != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.name, got, tt.want)
		}
	}
	// The move (the repair mechanism's manifest:UpdateHolders) puts n4 in.
	must(l.env, orgB, func(ctx *fakes.Context) (*records.Manifest, error) {
		return l.man.UpdateHolders(ctx, "b/site.css", "1", "0", `["n1-orga"]`, `["n4-orga"]`)
	})
	l.ledger.Advance(time.Duration(records.DefaultEpochSeconds) * time.Second)
	if got := check(records.EpochOf(l.ledger.Now(), records.DefaultEpochSeconds), "n4-orga"); got != "" {
		t.Errorf("new holder: reason %q", got)
	}
	if got := check(records.EpochOf(l.ledger.Now(), records.DefaultEpochSeconds), "n1-orga"); got != records.ExcludedUnassigned {
		t.Errorf("old holder once moved: reason %q", got)
	}
}
