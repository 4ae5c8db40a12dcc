//go:build integration

package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/slaaudit"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestSLAFromGateway: the gateway process attests what its reads saw of
// the other organisation's nodes once their epoch has ended
// (--sla-grace), and scores the epoch (--sla-score-wait, shortened for
// the suite); each node it observed then has a score of that epoch whose
// breakdown holds the gateway organisation's view. It waits on the
// ledger's records, polling, never a fixed time.
func TestSLAFromGateway(t *testing.T) {
	gw := env.Gateways[0]
	ctx := ctxT(t, 5*time.Minute)
	auditor := auditorLedger(t)
	info, err := auditor.Epoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := auditor.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orgOf := map[string]string{}
	for _, n := range nodes {
		orgOf[n.ID] = n.Org
	}
	// An object one of whose data shards (those a first read asks) is
	// held by the other organisation, so the reads observe its node.
	body := payload(300<<10, 411)
	var res *api.PublishResponse
	for i := 0; res == nil; i++ {
		if i == 10 {
			t.Fatal("no placement with a data shard on another organisation's node in 10 publishes")
		}
		r := publish(t, fmt.Sprintf("e2e/sla/observed-%d.bin", i), "application/octet-stream", body)
		for _, holders := range r.Placement[:r.K] {
			if slices.ContainsFunc(holders, func(id string) bool { return orgOf[id] != gw.Org }) {
				res = r
			}
		}
	}
	for range 5 {
		resp, got := do(t, http.MethodGet, res.VersionedURL, nil)
		if resp.StatusCode != http.StatusOK || len(got) != len(body) {
			t.Fatalf("GET: %s, %d bytes", resp.Status, len(got))
		}
	}
	// The gateway's attestation of an epoch from the reads' on.
	var att *records.SLAAttestation
	for att == nil {
		if ctx.Err() != nil {
			t.Fatalf("no attestation of %s's gateway from epoch %d on", gw.Org, info.Epoch)
		}
		cur, err := auditor.Epoch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for e := info.Epoch; e < cur.Epoch && att == nil; e++ {
			as, err := auditor.SLAAttestations(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if a.AttesterMSP == gw.Org && a.AttesterNode == "" {
					att = a
				}
			}
		}
		if att == nil {
			time.Sleep(time.Second) // polling the ledger
		}
	}
	for _, o := range att.Observations {
		if org, ok := orgOf[o.Node]; !ok || org == gw.Org {
			t.Fatalf("the gateway attested %s, not another organisation's registered node", o.Node)
		}
	}
	// The epoch gets scored by the gateway's submitter.
	var scored *records.SLAEpoch
	for scored == nil {
		scored, err = auditor.SLAEpoch(ctx, att.Epoch)
		if errors.Is(err, records.ErrNotFound) {
			if ctx.Err() != nil {
				t.Fatalf("epoch %d not scored", att.Epoch)
			}
			time.Sleep(time.Second) // polling the ledger
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range att.Observations {
		b, err := auditor.SLABreakdown(ctx, o.Node)
		if err != nil {
			t.Fatal(err)
		}
		if b.Epoch < att.Epoch || b.Epoch == att.Epoch && !slices.ContainsFunc(b.Orgs, func(v records.SLAOrgScore) bool { return v.MSP == gw.Org }) {
			t.Fatalf("breakdown of %s: %s %+v, want epoch %d with %s's view", o.Node, b, b.Orgs, att.Epoch, gw.Org)
		}
		t.Logf("%s: %s; %s's view %+v", o.Node, b, gw.Org, b.Orgs)
	}
	t.Logf("epoch %d scored in %s: %d nodes, %d attestations", att.Epoch, scored.TxID, len(scored.Nodes), scored.Attestations)

	// The operator CLI through the gateway's admin listener: the scores,
	// and the auditor's offline recomputation of the epoch, all matching.
	out, stderr, err := runCLIAs(t, testnetwork.RoleAuditor, "audit", "verify-sla", strconv.FormatInt(att.Epoch, 10))
	if err != nil {
		t.Fatalf("dct audit verify-sla %d: %v\n%s\n%s", att.Epoch, err, out, stderr)
	}
	vs := decodeJSON[[]slaaudit.Verdict](t, []byte(out))
	for _, o := range att.Observations {
		if !slices.ContainsFunc(vs, func(v slaaudit.Verdict) bool { return v.Node == o.Node && v.OK }) {
			t.Fatalf("verify-sla has no matching verdict for %s: %s", o.Node, stderr)
		}
	}
	t.Logf("dct audit verify-sla %d:\n%s", att.Epoch, stderr)
	out, _, err = runCLIAs(t, testnetwork.RoleAuditor, "sla", "scores", "--format", "csv")
	if err != nil || !strings.HasPrefix(out, "node,epoch,score,state\n") || !strings.Contains(out, att.Observations[0].Node+",") {
		t.Fatalf("dct sla scores: %v\n%s", err, out)
	}
}
