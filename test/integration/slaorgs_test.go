//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/slaaudit"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestSLAOneLyingOrg brings up a second network of four organisations, so
// that a node has three other organisations' views, and shows on it that
// one lying organisation cannot sink a node: org 4's gateway reports org
// 1's node n1 dead while orgs 2 and 3 see it perfect; the median of the
// three views is the honest one, and n1 stays ok at 8500, the score of a
// perfect epoch from the prior. Beside it, n2, which only orgs 2 and 4
// observe, shows why two views are not enough: the median of two is their
// mean and the liar drags it to a warning (7250). And n3, which every
// other organisation sees answer 90% of probes for three epochs in a row,
// is warned at its third scored epoch, as TestSLADetection computes
// (epochs are 60 s, so the attestations of three epochs go in at once and
// the test waits for the last one to end: at most about a minute). The
// auditor's recomputation matches every epoch.
func TestSLAOneLyingOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a second network")
	}
	runDir := t.TempDir()
	cfg := networkConfig(runDir, suite.Port()+500, 1)
	cfg.Orgs = testnetwork.OrgsFromNames([]string{"Org1", "Org2", "Org3", "Org4"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	desc, tm, err := testnetwork.Up(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("4-organisation network up in %s", tm.Total.Round(time.Millisecond))
	defer func() {
		if err := testnetwork.Down(context.Background(), runDir, false); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	admin := orgClient(t, desc, 0)
	slug := records.OrgSlug(desc.Orgs[0].MSPID)
	n1, n2, n3 := "lie-n1-"+slug, "lie-n2-"+slug, "lie-n3-"+slug
	var txs []string
	for i, id := range []string{n1, n2, n3} {
		n, err := admin.RegisterNode(ctx, nodeInput(t, id, "lie", 9800+i))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, n.LastTxID)
	}
	gws := make([]*ledger.Client, len(desc.Orgs))
	for i := range desc.Orgs {
		gws[i], _ = identityClient(t, desc, i, testnetwork.RoleGateway)
		for _, tx := range txs {
			if err := gws[i].WaitForCommit(ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Attestations of three epochs go in at once (the current one and the
	// two before are open): start early in an epoch so that the oldest
	// does not close meanwhile.
	for time.Since(records.EpochStart(records.EpochOf(time.Now(), records.DefaultEpochSeconds), records.DefaultEpochSeconds)) > 40*time.Second {
		if ctx.Err() != nil {
			t.Fatal("no fresh epoch")
		}
		time.Sleep(100 * time.Millisecond) // the wall clock, which the peers' transactions carry
	}
	info, err := admin.Epoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Epoch
	e := c - 1
	perfect := func(node string) records.SLAObservation {
		return records.SLAObservation{Node: node, ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 60, LatencyP50Ms: 10, LatencyP95Ms: 40, Deliveries: 5, DeliveredBytes: 5000}
	}
	dead := func(node string) records.SLAObservation { return records.SLAObservation{Node: node, ProbesSent: 60} }
	// n3 answers 90% of probes, fast and intact, as every organisation
	// sees it (epoch score 7000).
	ninety := func() records.SLAObservation {
		return records.SLAObservation{Node: n3, ProbesSent: 60, ProbesAnswered: 54, LatencySamples: 54, LatencyP50Ms: 10, LatencyP95Ms: 40, Deliveries: 5, DeliveredBytes: 5000}
	}
	reports := []struct {
		org   int
		epoch int64
		obs   []records.SLAObservation
	}{
		{1, e, []records.SLAObservation{perfect(n1), perfect(n2), ninety()}},
		{2, e, []records.SLAObservation{perfect(n1), ninety()}},
		{3, e, []records.SLAObservation{dead(n1), dead(n2), ninety()}}, // the liar
	}
	for _, ep := range []int64{c - 2, c} {
		for org := 1; org <= 3; org++ {
			reports = append(reports, struct {
				org   int
				epoch int64
				obs   []records.SLAObservation
			}{org, ep, []records.SLAObservation{ninety()}})
		}
	}
	for _, r := range reports {
		if _, err := gws[r.org].Attest(ctx, records.SLAAttestationInput{Epoch: r.epoch, Observations: r.obs}); err != nil {
			t.Fatalf("attestation of %s for epoch %d: %v", desc.Orgs[r.org].MSPID, r.epoch, err)
		}
	}
	if _, err := gws[0].ScoreEpoch(ctx, c-2); err != nil {
		t.Fatal(err)
	}
	res, err := gws[0].ScoreEpoch(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attestations != 3 || len(res.Nodes) != 3 {
		t.Fatalf("scored %+v", res)
	}
	tests := []struct {
		node       string
		views      int
		epochScore int64
		score      int64
		state      records.SLAState
	}{
		{n1, 3, 10000, 8500, records.SLAStateOK},     // median of 10000, 10000, 0
		{n2, 2, 5000, 7250, records.SLAStateWarning}, // mean of 10000 and 0
	}
	for _, tt := range tests {
		b, err := admin.SLABreakdown(ctx, tt.node)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Orgs) != tt.views || b.EpochScore != tt.epochScore || b.Score != tt.score || b.State != tt.state {
			t.Errorf("%s: %s from %d views %v; want epoch score %d, %d (%s) from %d views", tt.node, b, len(b.Orgs), b.Orgs, tt.epochScore, tt.score, tt.state, tt.views)
		}
		t.Logf("%s: %s, views %v", tt.node, b, b.Orgs)
	}
	// Detection on the real network: n3 at 90% is ok after its first two
	// scored epochs (7750, 7562) and warned at its third (7421), once
	// epoch c has ended and is scored.
	for cur := info; cur.Epoch <= c; {
		if ctx.Err() != nil {
			t.Fatalf("epoch %d did not end", c)
		}
		time.Sleep(500 * time.Millisecond) // polling the ledger's clock until epoch c has ended
		if cur, err = admin.Epoch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gws[0].ScoreEpoch(ctx, c); err != nil {
		t.Fatal(err)
	}
	h, err := admin.SLAHistory(ctx, n3)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	warnedAt := 0
	for i, entry := range h {
		var b records.SLABreakdown
		if err := json.Unmarshal([]byte(entry.Value), &b); err != nil {
			t.Fatal(err)
		}
		trail = append(trail, fmt.Sprintf("epoch %d: %d %s", b.Epoch, b.Score, b.State))
		if b.State == records.SLAStateWarning && warnedAt == 0 {
			warnedAt = i + 1
		}
	}
	if len(h) != 3 || warnedAt != 3 {
		t.Fatalf("%s at 90%%: %v; want warned at the third scored epoch", n3, trail)
	}
	t.Logf("%s answering 90%% of probes, seen by 3 organisations: warned at scored epoch %d (%v)", n3, warnedAt, trail)
	for _, ep := range []int64{c - 2, e, c} {
		ev, err := slaaudit.CollectEvidence(ctx, admin, ep)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range slaaudit.VerifyEpoch(ev) {
			if !v.OK {
				t.Errorf("verify-sla epoch %d: %s", ep, v)
			}
		}
	}
}
