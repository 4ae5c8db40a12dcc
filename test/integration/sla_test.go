//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/sla"
	"github.com/dct-network/dct/pkg/slaaudit"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// TestSLAAttestAndScore submits SLA attestations from both organisations
// on the real network (org A's gateway; org B's gateway and agent node
// identity), scores the epoch and reads back the scores and breakdowns:
// each node is scored by the other organisation only (org A's view of its
// own node is ignored), org B's view being the median of its two
// attesters. Refusals: a publisher may not attest, a future epoch is
// malformed, a scored epoch takes no more attestations; resubmissions and
// a second Score are no-ops.
func TestSLAAttestAndScore(t *testing.T) {
	ctx := ctxT(t)
	mspA, mspB := shared.Orgs[0].MSPID, shared.Orgs[1].MSPID
	adminA, adminB := adminClient(t, shared, 0), adminClient(t, shared, 1)
	gwA, _ := identityClient(t, shared, 0, testnetwork.RoleGateway)
	gwB, _ := identityClient(t, shared, 1, testnetwork.RoleGateway)
	agentB, _ := identityClient(t, shared, 1, testnetwork.RoleNode)
	pubA, _ := identityClient(t, shared, 0, testnetwork.RolePublisher)

	a1, b1 := "sla-a1-"+records.OrgSlug(mspA), "sla-b1-"+records.OrgSlug(mspB)
	na, err := adminA.RegisterNode(ctx, nodeInput(t, a1, "sla", 9701))
	if err != nil {
		t.Fatal(err)
	}
	nb, err := adminB.RegisterNode(ctx, nodeInput(t, b1, "sla", 9702))
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range []string{na.LastTxID, nb.LastTxID} {
		for _, cl := range []*ledger.Client{gwA, gwB, agentB} {
			if err := cl.WaitForCommit(ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
	}
	info, err := adminA.Epoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := info.Epoch - 1 // ended, still open to attestations

	attest := func(cl *ledger.Client, obs ...records.SLAObservation) (*records.SLAAttestation, error) {
		return cl.Attest(ctx, records.SLAAttestationInput{Epoch: e, Observations: obs})
	}
	perfect := func(node string) records.SLAObservation {
		return records.SLAObservation{Node: node, ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 60, LatencyP50Ms: 10, LatencyP95Ms: 40, Deliveries: 4, DeliveredBytes: 4096}
	}
	// Org B's gateway: 95% answered (reach 7000), p95 550 ms (latency
	// 5000), 1 shard of 10 failing (integrity 0). Org B's agent: all
	// answered (10000), p95 100 ms (10000), no shard figure.
	gwBObs := records.SLAObservation{Node: a1, ProbesSent: 100, ProbesAnswered: 95, LatencySamples: 10, LatencyP50Ms: 20, LatencyP95Ms: 550, ShardsFailed: 1, Deliveries: 9, DeliveredBytes: 9000}
	agentBObs := records.SLAObservation{Node: a1, ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 5, LatencyP50Ms: 30, LatencyP95Ms: 100}

	_, err = attest(pubA, perfect(b1))
	wantCode(t, "a publisher attests", err, records.ErrForbidden)
	_, err = gwA.Attest(ctx, records.SLAAttestationInput{Epoch: info.Epoch + 5, Observations: []records.SLAObservation{perfect(b1)}})
	wantCode(t, "an attestation of a future epoch", err, records.ErrInvalid)

	// Org A lies about its own node (ignored) and sees b1 perfect.
	aA, err := attest(gwA, records.SLAObservation{Node: a1, ProbesSent: 60, ProbesAnswered: 60}, perfect(b1))
	if err != nil {
		t.Fatal(err)
	}
	aB, err := attest(gwB, gwBObs)
	if err != nil {
		t.Fatal(err)
	}
	aN, err := attest(agentB, agentBObs)
	if err != nil {
		t.Fatal(err)
	}
	if aN.AttesterNode == "" || aN.AttesterMSP != mspB || aA.AttesterMSP != mspA {
		t.Fatalf("attesters %+v / %+v", aN, aA)
	}
	again, err := attest(gwB, gwBObs)
	if err != nil || again.TxID != aB.TxID {
		t.Fatalf("resubmission: %+v %v", again, err)
	}
	_, err = attest(gwB, perfect(a1))
	wantCode(t, "a second, different attestation of the epoch", err, records.ErrConflict)

	// A gateway's score table (org A's gateway identity) follows the
	// dct.sla events: its periodic reread is an hour away, so only the
	// Score's event can bring the new scores in.
	tb := sla.NewTable()
	tctx, stopTable := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); tb.Run(tctx, gwA, time.Hour, testenv.Logger()) }()
	go func() { defer wg.Done(); tb.Watch(tctx, gwA, gwA, sla.DefaultWatchConfig(), testenv.Logger()) }()
	defer func() { stopTable(); wg.Wait() }()
	waitFor(t, ctx, "the score table following the events", func() bool { return tb.Live() && tb.Refreshes() >= 1 })
	if _, ok := tb.Score(a1); ok {
		t.Fatalf("%s has a score before sla:Score", a1)
	}

	res, err := adminB.ScoreEpoch(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attestations != 3 || len(res.Nodes) != 2 {
		t.Fatalf("scored %+v", res)
	}
	if err := adminA.WaitForCommit(ctx, res.TxID); err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	waitFor(t, ctx, "the score table updated by the dct.sla event", func() bool {
		s, ok := tb.Score(a1)
		return ok && s.Score == 7531 && s.Epoch == e
	})
	if s, _ := tb.Score(b1); s.Score != 8500 {
		t.Fatalf("table score of %s: %s", b1, s)
	}
	t.Logf("score table updated %s after the sla:Score commit (event-driven; periodic reread every hour)", time.Since(committed).Round(time.Millisecond))
	// a1: org B's view is the median of its attesters' components,
	// reach (7000+10000)/2, latency (5000+10000)/2, integrity 0, so
	// (8500×50 + 7500×25 + 0×25)/100 = 6125; from the 8000 prior,
	// (6125 + 3×8000)/4 = 7531, ok.
	s, err := adminA.SLAScore(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Score != 7531 || s.State != records.SLAStateOK || s.Epoch != e {
		t.Fatalf("score of %s: %s", a1, s)
	}
	b, err := adminA.SLABreakdown(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	want := records.SLAOrgScore{MSP: mspB, Attesters: 2, Components: records.SLAComponents{Reach: 8500, Latency: 7500, Integrity: 0}, Score: 6125}
	if b.Org != mspA || len(b.Orgs) != 1 || b.Orgs[0] != want || b.EpochScore != 6125 || b.Previous != records.UnscoredSLAScore || b.TxID != res.TxID {
		t.Fatalf("breakdown of %s: %s %+v", a1, b, b.Orgs)
	}
	// b1: org A's perfect view: (10000 + 3×8000)/4 = 8500.
	if s, err := adminB.SLAScore(ctx, b1); err != nil || s.Score != 8500 {
		t.Fatalf("score of %s: %v %v", b1, s, err)
	}
	h, err := adminB.SLAHistory(ctx, a1)
	if err != nil || len(h) != 1 {
		t.Fatalf("history of %s: %v %v", a1, h, err)
	}
	var hb records.SLABreakdown
	if err := json.Unmarshal([]byte(h[0].Value), &hb); err != nil || hb.Score != 7531 || h[0].TxID != res.TxID {
		t.Fatalf("history entry %+v: %v", h[0], err)
	}
	all, err := adminB.SLAScores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, s := range all {
		if s.Node == a1 || s.Node == b1 {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("sla:List misses the scores: %v", all)
	}
	atts, err := adminA.SLAAttestations(ctx, e)
	if err != nil || len(atts) != 3 {
		t.Fatalf("attestations of epoch %d: %d %v", e, len(atts), err)
	}
	// The epoch is closed to attestations; scoring it again changes
	// nothing.
	if err := agentB.WaitForCommit(ctx, res.TxID); err != nil {
		t.Fatal(err)
	}
	_, err = attest(agentB, perfect(b1))
	wantCode(t, "an attestation of a scored epoch", err, records.ErrFailedPrecondition)
	again2, err := adminA.ScoreEpoch(ctx, e)
	if err != nil || again2.TxID != res.TxID {
		t.Fatalf("second score: %+v %v", again2, err)
	}

	// The auditor's recomputation (dct audit verify-sla's code) from the
	// ledger's attestations and breakdown history: every node matches;
	// the same evidence with a tampered stored score does not.
	ev, err := slaaudit.CollectEvidence(ctx, adminB, e)
	if err != nil {
		t.Fatal(err)
	}
	vs := slaaudit.VerifyEpoch(ev)
	if len(vs) != 2 {
		t.Fatalf("verdicts %v", vs)
	}
	for _, v := range vs {
		if !v.OK || !v.Scored {
			t.Errorf("verify-sla: %s", v)
		}
		t.Logf("verify-sla epoch %d: %s", e, v)
	}
	ev.History[a1][len(ev.History[a1])-1].Score++
	if vs := slaaudit.VerifyEpoch(ev); vs[0].Node != a1 || vs[0].OK || !vs[1].OK {
		t.Fatalf("a tampered score of %s: %v", a1, vs)
	}
}

// waitFor polls cond (a local condition) until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
