package contract

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

const orgD = "OrgDMSP"

// slaWorld is a ledger with four organisations, a gateway identity in
// each, a node identity of org B bound to n1-orgb, and nodes n1-orga (org
// A) and n1-orgb (org B).
type slaWorld struct {
	e   *env
	sla *SLAContract
	m   map[string]member // gwA … gwD, nodeB, publisherA
}

func newSLAWorld(t *testing.T) *slaWorld {
	w := &slaWorld{e: newEnv(t), sla: NewSLAContract(), m: map[string]member{}}
	grant := func(name, msp string, role records.Role, node string) {
		cert, p, _, err := fakes.NewCertKey(msp, name+"@"+msp, "client")
		if err != nil {
			t.Fatal(err)
		}
		in := records.GrantInput{Certificate: p, Roles: []records.Role{role}, NodeID: node}
		must(w.e, msp, func(ctx *fakes.Context) (*records.Identity, error) {
			return NewIdentityContract().Grant(ctx, toJSON(t, in))
		})
		w.m[name] = member{msp: msp, cert: cert, pem: p}
	}
	w.e.registerNodes(orgA, "n1-orga")
	w.e.registerNodes(orgB, "n1-orgb")
	for _, o := range []struct{ name, msp string }{{"gwA", orgA}, {"gwB", orgB}, {"gwC", orgC}, {"gwD", orgD}} {
		grant(o.name, o.msp, records.RoleGateway, "")
	}
	grant("nodeB", orgB, records.RoleNode, "n1-orgb")
	grant("publisherA", orgA, records.RolePublisher, "")
	return w
}

func (w *slaWorld) epoch() int64 {
	return records.EpochOf(w.e.ledger.Now(), records.DefaultEpochSeconds)
}

func (w *slaWorld) attest(who string, epoch int64, obs ...records.SLAObservation) (*records.SLAAttestation, error) {
	w.e.t.Helper()
	return as(w.e, w.m[who], func(ctx *fakes.Context) (*records.SLAAttestation, error) {
		return w.sla.Attest(ctx, toJSON(w.e.t, records.SLAAttestationInput{Epoch: epoch, Observations: obs}))
	})
}

func (w *slaWorld) score(who string, epoch int64) (*records.SLAEpoch, error) {
	w.e.t.Helper()
	return as(w.e, w.m[who], func(ctx *fakes.Context) (*records.SLAEpoch, error) { return w.sla.Score(ctx, epoch) })
}

func (w *slaWorld) get(node string) *records.SLAScore {
	w.e.t.Helper()
	return must(w.e, orgC, func(ctx *fakes.Context) (*records.SLAScore, error) { return w.sla.Get(ctx, node) })
}

// step has each attester attest the current epoch with its observations,
// closes the epoch and scores it.
func (w *slaWorld) step(obs map[string]records.SLAObservation) *records.SLAEpoch {
	w.e.t.Helper()
	ep := w.epoch()
	for who, o := range obs {
		if _, err := w.attest(who, ep, o); err != nil {
			w.e.t.Fatalf("%s attests: %v", who, err)
		}
	}
	w.e.ledger.Advance(time.Duration(records.DefaultEpochSeconds) * time.Second)
	res, err := w.score("gwC", ep)
	if err != nil {
		w.e.t.Fatal(err)
	}
	return res
}

func perfect(node string) records.SLAObservation {
	return records.SLAObservation{Node: node, ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 60, LatencyP50Ms: 10, LatencyP95Ms: 40, Deliveries: 10, DeliveredBytes: 10 << 20}
}

func dead(node string) records.SLAObservation {
	return records.SLAObservation{Node: node, ProbesSent: 60, ShardsFailed: 10}
}

// TestSLAMedianResistsOneLyingOrg: org A's node is observed perfect by B
// and C; D reports it dead, and A itself (its own org, ignored) lies too.
// Its epoch score is the honest one. C and D see n1-orgb dead while A
// reports it perfect: A cannot lift it.
func TestSLAMedianResistsOneLyingOrg(t *testing.T) {
	w := newSLAWorld(t)
	ep := w.epoch()
	for who, obs := range map[string][]records.SLAObservation{
		"gwA": {dead("n1-orga"), perfect("n1-orgb")}, // own node ignored; lies B's up
		"gwB": {perfect("n1-orga")},
		"gwC": {perfect("n1-orga"), dead("n1-orgb")},
		"gwD": {dead("n1-orga"), dead("n1-orgb")}, // lies A's down
	} {
		if _, err := w.attest(who, ep, obs...); err != nil {
			t.Fatal(err)
		}
	}
	w.e.ledger.Advance(time.Minute)
	res, err := w.score("gwB", ep)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attestations != 4 || strings.Join(res.Nodes, ",") != "n1-orga,n1-orgb" {
		t.Fatalf("scored %+v", res)
	}
	b := must(w.e, orgD, func(ctx *fakes.Context) (*records.SLABreakdown, error) { return w.sla.Breakdown(ctx, "n1-orga") })
	if b.EpochScore != 10000 || len(b.Orgs) != 3 || b.Orgs[0].MSP != orgB || b.Org != orgA || b.Score != 8500 || b.State != records.SLAStateOK {
		t.Fatalf("n1-orga breakdown %s %+v", b, b.Orgs)
	}
	// n1-orgb: A says perfect (10000), C and D dead (0; integrity 0,
	// reach 0): median of {10000, 0, 0} is 0.
	b = must(w.e, orgD, func(ctx *fakes.Context) (*records.SLABreakdown, error) { return w.sla.Breakdown(ctx, "n1-orgb") })
	if b.EpochScore != 0 || len(b.Orgs) != 3 || b.Score != 6000 || b.State != records.SLAStateWarning || b.Below != 1 {
		t.Fatalf("n1-orgb breakdown %s %+v", b, b.Orgs)
	}
	if s := w.get("n1-orgb"); s.Score != 6000 || s.Epoch != ep || s.State != records.SLAStateWarning {
		t.Fatalf("n1-orgb score %s", s)
	}
	// The scoring is published as an event.
	evs := w.e.ledger.Events()
	last := evs[len(evs)-1]
	var got records.SLAEpoch
	if last.Name != records.SLAEventName || json.Unmarshal(last.Payload, &got) != nil || got.Epoch != ep || got.TxID != res.TxID {
		t.Fatalf("event %s %s", last.Name, last.Payload)
	}
}

// TestSLAWarningPenalizedRecovery drives n1-orga through warning, the
// grace period, the penalty and the recovery, and checks the history.
func TestSLAWarningPenalizedRecovery(t *testing.T) {
	w := newSLAWorld(t)
	both := func(o func(string) records.SLAObservation) map[string]records.SLAObservation {
		return map[string]records.SLAObservation{"gwB": o("n1-orga"), "gwC": o("n1-orga")}
	}
	type want struct {
		score int64
		state records.SLAState
	}
	// Dead epochs: 8000 → 6000, 4500, 3375 (warning, within the grace of
	// 3 epochs), 2531 (penalized); perfect ones: 4398, 5798, 6848, 7636.
	steps := []struct {
		obs  func(string) records.SLAObservation
		want want
	}{
		{dead, want{6000, records.SLAStateWarning}}, {dead, want{4500, records.SLAStateWarning}},
		{dead, want{3375, records.SLAStateWarning}}, {dead, want{2531, records.SLAStatePenalized}},
		{perfect, want{4398, records.SLAStatePenalized}}, {perfect, want{5798, records.SLAStatePenalized}},
		{perfect, want{6848, records.SLAStatePenalized}}, {perfect, want{7636, records.SLAStateOK}},
	}
	if s := w.get("n1-orga"); s.State != records.SLAStateUnscored || s.Score != records.UnscoredSLAScore {
		t.Fatalf("before any attestation: %s", s)
	}
	for i, s := range steps {
		w.step(both(s.obs))
		if got := w.get("n1-orga"); got.Score != s.want.score || got.State != s.want.state {
			t.Fatalf("step %d: %s, want %d %s", i, got, s.want.score, s.want.state)
		}
	}
	// An epoch without attestations leaves the score alone.
	before := *w.get("n1-orga")
	w.step(nil)
	if got := w.get("n1-orga"); *got != before {
		t.Fatalf("empty epoch changed %s to %s", before, got)
	}
	h := must(w.e, orgD, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return w.sla.History(ctx, "n1-orga") })
	if len(h) != len(steps) {
		t.Fatalf("history has %d entries, want %d", len(h), len(steps))
	}
	var b records.SLABreakdown
	if err := json.Unmarshal([]byte(h[3].Value), &b); err != nil || b.State != records.SLAStatePenalized || b.Below != 4 || b.PreviousState != records.SLAStateWarning {
		t.Fatalf("history[3] %s: %v", h[3].Value, err)
	}
	hs := must(w.e, orgD, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return w.e.hist.SLAScore(ctx, "n1-orga") })
	if len(hs) != len(steps) {
		t.Fatalf("score history has %d entries, want %d", len(hs), len(steps))
	}
	list := must(w.e, orgD, func(ctx *fakes.Context) ([]*records.SLAScore, error) { return w.sla.List(ctx) })
	if len(list) != 1 || list[0].Node != "n1-orga" {
		t.Fatalf("list %v", list)
	}
}

// TestSLARefusals: every refused Attest and Score writes nothing (call
// checks it) and says why.
func TestSLARefusals(t *testing.T) {
	w := newSLAWorld(t)
	ep := w.epoch()
	ok := perfect("n1-orga")
	for _, c := range []struct {
		name     string
		run      func() error
		code     records.Code
		contains string
	}{
		{"publisher", func() error { _, err := w.attest("publisherA", ep, ok); return err }, records.CodeForbidden, "needs the role gateway or node"},
		{"org admin", func() error {
			_, err := call(w.e, orgA, func(ctx *fakes.Context) (*records.SLAAttestation, error) {
				return w.sla.Attest(ctx, toJSON(t, records.SLAAttestationInput{Epoch: ep, Observations: []records.SLAObservation{ok}}))
			})
			return err
		}, records.CodeForbidden, "needs the role"},
		{"gateway certificate under another org", func() error {
			_, err := as(w.e, member{msp: orgB, cert: w.m["gwA"].cert}, func(ctx *fakes.Context) (*records.SLAAttestation, error) {
				return w.sla.Attest(ctx, toJSON(t, records.SLAAttestationInput{Epoch: ep, Observations: []records.SLAObservation{ok}}))
			})
			return err
		}, records.CodeForbidden, "needs the role"},
		{"malformed", func() error {
			_, err := as(w.e, w.m["gwB"], func(ctx *fakes.Context) (*records.SLAAttestation, error) { return w.sla.Attest(ctx, `{"epoch":`) })
			return err
		}, records.CodeInvalid, "malformed"},
		{"unknown field", func() error {
			_, err := as(w.e, w.m["gwB"], func(ctx *fakes.Context) (*records.SLAAttestation, error) {
				return w.sla.Attest(ctx, `{"epoch":1,"observations":[],"score":10000}`)
			})
			return err
		}, records.CodeInvalid, "unknown field"},
		{"bad figures", func() error {
			_, err := w.attest("gwB", ep, records.SLAObservation{Node: "n1-orga", ProbesSent: 1, ProbesAnswered: 2})
			return err
		}, records.CodeInvalid, "probes answered"},
		{"oversize", func() error {
			obs := make([]records.SLAObservation, records.MaxSLAObservations+1)
			for i := range obs {
				obs[i] = records.SLAObservation{Node: "n" + strings.Repeat("x", 4) + string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)), ProbesSent: 1}
			}
			_, err := w.attest("gwB", ep, obs...)
			return err
		}, records.CodeInvalid, "at most"},
		{"unknown node", func() error { _, err := w.attest("gwB", ep, perfect("n9-orga")); return err }, records.CodeNotFound, "not registered"},
		{"future epoch", func() error { _, err := w.attest("gwB", ep+1, ok); return err }, records.CodeInvalid, "future"},
		{"old epoch", func() error { _, err := w.attest("gwB", ep-records.SLAAttestEpochs-1, ok); return err }, records.CodeFailedPrecondition, "closed"},
		{"score the current epoch", func() error { _, err := w.score("gwB", ep); return err }, records.CodeFailedPrecondition, "has not ended"},
		{"score a negative epoch", func() error { _, err := w.score("gwB", -1); return err }, records.CodeInvalid, "negative"},
		{"score without a role", func() error {
			_, err := as(w.e, member{msp: orgC, cert: w.m["gwA"].cert}, func(ctx *fakes.Context) (*records.SLAEpoch, error) { return w.sla.Score(ctx, ep-1) })
			return err
		}, records.CodeForbidden, "needs the role"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.e.t = t
			err := c.run()
			wantCode(t, err, c.code, c.contains)
		})
	}
	w.e.t = t
	// A node identity attests as itself; the same attestation again is a
	// no-op, another one for the epoch is refused.
	first, err := w.attest("nodeB", ep, ok)
	if err != nil || first.AttesterNode != "n1-orgb" || first.AttesterMSP != orgB {
		t.Fatalf("%+v %v", first, err)
	}
	again, err := w.attest("nodeB", ep, ok)
	if err != nil || again.TxID != first.TxID {
		t.Fatalf("resubmission: %+v %v", again, err)
	}
	_, err = w.attest("nodeB", ep, dead("n1-orga"))
	wantCode(t, err, records.CodeConflict, "already attested epoch")
	// Once the epoch is scored it takes no more attestations, and scoring
	// it again returns the first result.
	w.e.ledger.Advance(time.Minute)
	res, err := w.score("gwC", ep)
	if err != nil || len(res.Nodes) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	_, err = w.attest("gwC", ep, ok)
	wantCode(t, err, records.CodeFailedPrecondition, "already scored")
	res2, err := w.score("gwD", ep)
	if err != nil || res2.TxID != res.TxID {
		t.Fatalf("second score %+v %v", res2, err)
	}
	// Reads: unknown node, never-scored breakdown.
	_, err = call(w.e, orgA, func(ctx *fakes.Context) (*records.SLAScore, error) { return w.sla.Get(ctx, "n9-orga") })
	wantCode(t, err, records.CodeNotFound, "not registered")
	_, err = call(w.e, orgA, func(ctx *fakes.Context) (*records.SLABreakdown, error) { return w.sla.Breakdown(ctx, "n1-orgb") })
	wantCode(t, err, records.CodeNotFound, "has not been scored")
	as := must(w.e, orgA, func(ctx *fakes.Context) ([]*records.SLAAttestation, error) { return w.sla.Attestations(ctx, ep) })
	if len(as) != 1 || as[0].TxID != first.TxID {
		t.Fatalf("attestations %+v", as)
	}
}

// TestSLAOwnOrgOnly: a node observed only by its own organisation is not
// scored (its org can neither lift nor sink it).
func TestSLAOwnOrgOnly(t *testing.T) {
	w := newSLAWorld(t)
	res := w.step(map[string]records.SLAObservation{"gwA": dead("n1-orga"), "nodeB": perfect("n1-orgb")})
	if len(res.Nodes) != 0 || strings.Join(res.Skipped, ",") != "n1-orga,n1-orgb" {
		t.Fatalf("scored %+v", res)
	}
	res = w.step(map[string]records.SLAObservation{"gwB": dead("n1-orga")})
	if strings.Join(res.Nodes, ",") != "n1-orga" || len(res.Skipped) != 0 {
		t.Fatalf("scored %+v", res)
	}
	if s := w.get("n1-orgb"); s.State != records.SLAStateUnscored {
		t.Fatalf("own org scored its node: %s", s)
	}
}

// TestSLAThroughContractAPI runs the SLA functions through the real
// router, so that their records are checked against their generated
// schema as on a peer.
func TestSLAThroughContractAPI(t *testing.T) {
	inv := newInvoker(t)
	var n records.Node
	inv.ok(orgA, &n, "node:Register", nodeJSON(t, "n1-orga"))
	_, p, _, err := fakes.NewCertKey(orgB, "gw@b", "client")
	if err != nil {
		t.Fatal(err)
	}
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: orgB, IdBytes: []byte(p)})
	if err != nil {
		t.Fatal(err)
	}
	inv.creators["gwB"] = creator
	var id records.Identity
	inv.ok(orgB, &id, "identity:Grant", toJSON(t, records.GrantInput{Certificate: p, Roles: []records.Role{records.RoleGateway}}))
	ep := records.EpochOf(inv.ledger.Now(), records.DefaultEpochSeconds)
	in := records.SLAAttestationInput{Epoch: ep, Observations: []records.SLAObservation{perfect("n1-orga")}}
	inv.fail(orgB, records.CodeForbidden, "sla:Attest", toJSON(t, in))
	var a records.SLAAttestation
	inv.ok("gwB", &a, "sla:Attest", toJSON(t, in))
	inv.ledger.Advance(time.Minute)
	var e records.SLAEpoch
	inv.ok(orgA, &e, "sla:Score", strconv.FormatInt(ep, 10))
	var s records.SLAScore
	inv.ok(orgA, &s, "sla:Get", "n1-orga")
	var b records.SLABreakdown
	inv.ok(orgA, &b, "sla:Breakdown", "n1-orga")
	var list []records.SLAScore
	inv.ok(orgA, &list, "sla:List")
	var as []records.SLAAttestation
	inv.ok(orgA, &as, "sla:Attestations", strconv.FormatInt(ep, 10))
	var h []records.HistoryEntry
	inv.ok(orgA, &h, "sla:History", "n1-orga")
	if s.Score != 8500 || b.Score != 8500 || len(list) != 1 || len(as) != 1 || len(h) != 1 || e.Nodes[0] != "n1-orga" {
		t.Fatalf("score %s breakdown %s list %v attestations %d history %d", s, &b, list, len(as), len(h))
	}
}

// TestSLAAttestersPerOrgBounded: Score reads at most
// MaxSLAAttestersPerOrg attestations of one organisation in an epoch;
// the rest are counted as ignored.
func TestSLAAttestersPerOrgBounded(t *testing.T) {
	w := newSLAWorld(t)
	n := records.MaxSLAAttestersPerOrg + 1
	var gws []member
	for i := range n {
		cert, p, _, err := fakes.NewCertKey(orgD, "gw"+strconv.Itoa(i)+"@d", "client")
		if err != nil {
			t.Fatal(err)
		}
		must(w.e, orgD, func(ctx *fakes.Context) (*records.Identity, error) {
			return NewIdentityContract().Grant(ctx, toJSON(t, records.GrantInput{Certificate: p, Roles: []records.Role{records.RoleGateway}}))
		})
		gws = append(gws, member{msp: orgD, cert: cert, pem: p})
	}
	ep := w.epoch()
	for _, g := range gws {
		if _, err := as(w.e, g, func(ctx *fakes.Context) (*records.SLAAttestation, error) {
			return w.sla.Attest(ctx, toJSON(t, records.SLAAttestationInput{Epoch: ep, Observations: []records.SLAObservation{perfect("n1-orga")}}))
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.e.ledger.Advance(time.Minute)
	res, err := w.score("gwB", ep)
	if err != nil {
		t.Fatal(err)
	}
	b := must(w.e, orgD, func(ctx *fakes.Context) (*records.SLABreakdown, error) { return w.sla.Breakdown(ctx, "n1-orga") })
	if res.Attestations != records.MaxSLAAttestersPerOrg || res.Ignored != 1 || len(b.Orgs) != 1 || b.Orgs[0].Attesters != records.MaxSLAAttestersPerOrg {
		t.Fatalf("scored %+v, breakdown %+v", res, b.Orgs)
	}
}
