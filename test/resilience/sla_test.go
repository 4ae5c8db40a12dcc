//go:build integration

package resilience

import (
	"context"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/test/internal/testenv"
)

// TestSLAAgentsAttest: the agents, gossiping in the mesh, attest the other
// organisation's agents with their node identities once an epoch has
// ended, and the gateways score it: each scored node's breakdown holds
// only the other organisation's view. It polls the ledger's records.
//
// The suite's earlier tests kill and stop agents, so the epoch checked is
// the first that began after this test did (no agent is disturbed in
// it), and its epoch score — not the decayed score, which carries the
// earlier epochs — must be ok for every node still running; a node every
// view saw unreachable all epoch (an agent an earlier test killed for
// good) is only logged.
func TestSLAAgentsAttest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	signer, err := env.Orgs[0].AdminSigner()
	if err != nil {
		t.Fatal(err)
	}
	l := testenv.LedgerClient(t, env, 0, signer)
	start, err := l.Epoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := l.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orgOf := map[string]string{}
	for _, n := range nodes {
		orgOf[n.ID] = n.Org
	}
	// An epoch that began after now, with an agent's attestation, scored.
	for e := start.Epoch + 1; ; {
		if ctx.Err() != nil {
			t.Fatalf("no scored epoch with agents' attestations from epoch %d on", start.Epoch)
		}
		done, err := l.SLAEpoch(ctx, e)
		if err != nil {
			time.Sleep(time.Second) // polling the ledger until epoch e is scored
			continue
		}
		as, err := l.SLAAttestations(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		agents := 0
		for _, a := range as {
			if a.AttesterNode == "" {
				continue
			}
			agents++
			for _, o := range a.Observations {
				if org, ok := orgOf[o.Node]; !ok || org == a.AttesterMSP || o.Node == a.AttesterNode {
					t.Fatalf("agent %s (%s) attested %s, not another organisation's node", a.AttesterNode, a.AttesterMSP, o.Node)
				}
			}
		}
		if agents == 0 {
			e++
			continue
		}
		for _, id := range done.Nodes {
			b, err := l.SLABreakdown(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range b.Orgs {
				if v.MSP == orgOf[id] {
					t.Fatalf("%s scored with its own organisation's view: %+v", id, b.Orgs)
				}
			}
			if b.Epoch != e {
				continue
			}
			gone := len(b.Orgs) > 0
			for _, v := range b.Orgs {
				gone = gone && v.Components.Reach == 0
			}
			switch {
			case gone:
				t.Logf("%s: unreachable all epoch (stopped by an earlier test): %s", id, b)
			case b.EpochScore < records.SLAWarnBelow:
				t.Errorf("%s: %s %+v, want an epoch score of at least %d on a healthy network", id, b, b.Orgs, records.SLAWarnBelow)
			}
		}
		t.Logf("epoch %d: %d attestations (%d of agents), %d nodes scored, %d skipped", e, len(as), agents, len(done.Nodes), len(done.Skipped))
		return
	}
}
