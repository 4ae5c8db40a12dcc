package edgeagent

import (
	"context"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/sla"
)

type slaFakeLedger struct {
	nodes []*records.Node
}

func (f *slaFakeLedger) Attest(context.Context, records.SLAAttestationInput) (*records.SLAAttestation, error) {
	return &records.SLAAttestation{}, nil
}
func (f *slaFakeLedger) ScoreEpoch(context.Context, int64) (*records.SLAEpoch, error) {
	return &records.SLAEpoch{}, nil
}
func (f *slaFakeLedger) SLAEpoch(context.Context, int64) (*records.SLAEpoch, error) {
	return &records.SLAEpoch{}, nil
}
func (f *slaFakeLedger) ListNodes(context.Context) ([]*records.Node, error) { return f.nodes, nil }

type fakeMesh []mesh.Member

func (m fakeMesh) Members() []mesh.Member { return m }

// TestSLASampler: the agent counts other organisations' registered nodes
// as the mesh shows them, ignoring its own organisation's, unregistered
// ones and members whose gRPC tag is not the ledger's endpoint.
func TestSLASampler(t *testing.T) {
	node := func(id, org string) *records.Node {
		return &records.Node{ID: id, Org: org, Endpoint: id + ":9000", Status: records.NodeStatusActive}
	}
	member := func(id string, st mesh.Status, rtt time.Duration) mesh.Member {
		return mesh.Member{Name: id, Role: mesh.RoleAgent, NodeID: id, Status: st, RTT: rtt, HasRTT: rtt > 0,
			Tags: map[string]string{mesh.TagGRPC: id + ":9000"}}
	}
	l := &slaFakeLedger{nodes: []*records.Node{node("a1-orga", "OrgAMSP"), node("a2-orga", "OrgAMSP"),
		node("b1-orgb", "OrgBMSP"), node("b2-orgb", "OrgBMSP"), node("b3-orgb", "OrgBMSP")}}
	liar := member("b3-orgb", mesh.StatusAlive, time.Millisecond)
	liar.Tags[mesh.TagGRPC] = "evil:9000"
	m := fakeMesh{
		member("a2-orga", mesh.StatusAlive, time.Millisecond), // own organisation
		member("b1-orgb", mesh.StatusAlive, 30*time.Millisecond),
		member("b2-orgb", mesh.StatusFailed, 0),
		member("c1-orgc", mesh.StatusAlive, time.Millisecond), // not registered
		liar,
	}
	now := time.Unix(1000*records.DefaultEpochSeconds+1, 0)
	agg := sla.NewAggregator(sla.WithClock(func() time.Time { return now }))
	s := &slaSampler{l: l, m: m, agg: agg, self: "a1-orga", own: "OrgAMSP"}
	for range 3 {
		s.sample(context.Background())
	}
	in, ok := agg.Attestation(1000, s.keep)
	if !ok || len(in.Observations) != 2 {
		t.Fatalf("%+v", in)
	}
	b1, b2 := in.Observations[0], in.Observations[1]
	if b1.Node != "b1-orgb" || b1.ProbesSent != 3 || b1.ProbesAnswered != 3 || b1.LatencySamples != 3 || b1.LatencyP95Ms != 30 {
		t.Fatalf("b1: %s", b1)
	}
	if b2.Node != "b2-orgb" || b2.ProbesSent != 3 || b2.ProbesAnswered != 0 || b2.LatencySamples != 0 {
		t.Fatalf("b2: %s", b2)
	}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
}
