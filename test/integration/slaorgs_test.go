//go:build integration

package integration

import (
	"context"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/sla"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestSLAOneLyingOrg brings up a second network of four organisations, so
// that a node has three other organisations' views, and shows on it that
// one lying organisation cannot sink a node: org 4's gateway reports org
// 1's node n1 dead while orgs 2 and 3 see it perfect; the median of the
// three views is the honest one, and n1 stays ok at 8500, the score of a
// perfect epoch from the prior. Beside it, n2, which only orgs 2 and 4
// observe, shows why two views are not enough: the median of two is their
// mean and the liar drags it to a warning (7250). The auditor's
// recomputation matches both.
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
	n1, n2 := "lie-n1-"+slug, "lie-n2-"+slug
	var txs []string
	for i, id := range []string{n1, n2} {
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
	info, err := admin.Epoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := info.Epoch - 1 // ended, still open to attestations
	perfect := func(node string) records.SLAObservation {
		return records.SLAObservation{Node: node, ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 60, LatencyP50Ms: 10, LatencyP95Ms: 40, Deliveries: 5, DeliveredBytes: 5000}
	}
	dead := func(node string) records.SLAObservation { return records.SLAObservation{Node: node, ProbesSent: 60} }
	reports := []struct {
		org int
		obs []records.SLAObservation
	}{
		{1, []records.SLAObservation{perfect(n1), perfect(n2)}},
		{2, []records.SLAObservation{perfect(n1)}},
		{3, []records.SLAObservation{dead(n1), dead(n2)}}, // the liar
	}
	for _, r := range reports {
		if _, err := gws[r.org].Attest(ctx, records.SLAAttestationInput{Epoch: e, Observations: r.obs}); err != nil {
			t.Fatalf("attestation of %s: %v", desc.Orgs[r.org].MSPID, err)
		}
	}
	res, err := gws[0].ScoreEpoch(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attestations != 3 || len(res.Nodes) != 2 {
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
	ev, err := sla.CollectEvidence(ctx, admin, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range sla.VerifyEpoch(ev) {
		if !v.OK {
			t.Errorf("verify-sla: %s", v)
		}
	}
}
