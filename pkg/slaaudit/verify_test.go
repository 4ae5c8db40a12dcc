package slaaudit

import (
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
)

// verifyEvidence is epoch 50 as TestSLAAttestAndScore scores it on the
// real network: org B's gateway and agent observe a1 (org A's node), org A
// observes b1 (org B's) perfectly and lies about its own a1 (ignored).
// The stored figures are the ones the chaincode wrote there (a1: org B's
// view 6125, 8000 → 7531; b1: 10000, 8000 → 8500).
func verifyEvidence() *EpochEvidence {
	const e = 50
	hash := func(c byte) string { return strings.Repeat(string(c), 64) }
	perfect := records.SLAObservation{Node: "b1-orgb", ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 60, LatencyP50Ms: 10, LatencyP95Ms: 40, Deliveries: 4, DeliveredBytes: 4096}
	atts := []*records.SLAAttestation{
		{Epoch: e, AttesterMSP: "OrgBMSP", Attester: hash('b'), Observations: []records.SLAObservation{
			{Node: "a1-orga", ProbesSent: 100, ProbesAnswered: 95, LatencySamples: 10, LatencyP50Ms: 20, LatencyP95Ms: 550, ShardsFailed: 1, Deliveries: 9, DeliveredBytes: 9000}}},
		{Epoch: e, AttesterMSP: "OrgAMSP", Attester: hash('a'), Observations: []records.SLAObservation{
			{Node: "a1-orga", ProbesSent: 60, ProbesAnswered: 60}, perfect}},
		{Epoch: e, AttesterMSP: "OrgBMSP", Attester: hash('c'), AttesterNode: "agent0-orgb", Observations: []records.SLAObservation{
			{Node: "a1-orga", ProbesSent: 60, ProbesAnswered: 60, LatencySamples: 5, LatencyP50Ms: 30, LatencyP95Ms: 100}}},
	}
	return &EpochEvidence{
		Epoch:        records.SLAEpoch{Epoch: e, Attestations: 3, Nodes: []string{"a1-orga", "b1-orgb"}, Skipped: []string{}, TxID: "tx50"},
		Attestations: atts,
		Orgs:         map[string]string{"a1-orga": "OrgAMSP", "b1-orgb": "OrgBMSP"},
		History: map[string][]records.SLABreakdown{
			"a1-orga": {{Node: "a1-orga", Org: "OrgAMSP", Epoch: e, TxID: "tx50",
				Orgs:       []records.SLAOrgScore{{MSP: "OrgBMSP", Attesters: 2, Components: records.SLAComponents{Reach: 8500, Latency: 7500, Integrity: 0}, Score: 6125}},
				Median:     records.SLAComponents{Reach: 8500, Latency: 7500, Integrity: 0},
				EpochScore: 6125, Previous: 8000, PreviousState: records.SLAStateUnscored, Score: 7531, State: records.SLAStateOK}},
			"b1-orgb": {{Node: "b1-orgb", Org: "OrgBMSP", Epoch: e, TxID: "tx50",
				Orgs:       []records.SLAOrgScore{{MSP: "OrgAMSP", Attesters: 1, Components: records.SLAComponents{Reach: 10000, Latency: 10000, Integrity: 10000}, Score: 10000}},
				Median:     records.SLAComponents{Reach: 10000, Latency: 10000, Integrity: 10000},
				EpochScore: 10000, Previous: 8000, PreviousState: records.SLAStateUnscored, Score: 8500, State: records.SLAStateOK}},
		},
	}
}

func TestVerifyEpoch(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(ev *EpochEvidence)
		bad    string // the node reported as a mismatch ("" = all match)
		detail string
	}{
		{name: "as stored"},
		{name: "a tampered stored score", bad: "a1-orga", detail: "score stored 7600, recomputed 7531",
			tamper: func(ev *EpochEvidence) { ev.History["a1-orga"][0].Score = 7600 }},
		{name: "a tampered state", bad: "b1-orgb", detail: "state stored warning",
			tamper: func(ev *EpochEvidence) { ev.History["b1-orgb"][0].State = records.SLAStateWarning }},
		{name: "a tampered organisation's view", bad: "a1-orga", detail: "organisations' views",
			tamper: func(ev *EpochEvidence) { ev.History["a1-orga"][0].Orgs[0].Score = 9000 }},
		{name: "an attestation missing from the ledger", bad: "a1-orga", detail: "the ledger holds 2",
			tamper: func(ev *EpochEvidence) { ev.Attestations = ev.Attestations[1:] }},
		{name: "an observation changed after scoring", bad: "a1-orga", detail: "epoch score stored 6125",
			tamper: func(ev *EpochEvidence) { ev.Attestations[2].Observations[0].ProbesAnswered = 30 }},
		{name: "a scored node without its breakdown", bad: "b1-orgb", detail: "no breakdown",
			tamper: func(ev *EpochEvidence) { ev.History["b1-orgb"][0].TxID = "other" }},
		{name: "an observed node neither scored nor skipped", bad: "b1-orgb", detail: "neither scored nor skipped",
			tamper: func(ev *EpochEvidence) { ev.Epoch.Nodes = ev.Epoch.Nodes[:1] }},
		{name: "a previous score that does not lead to the stored one", bad: "b1-orgb", detail: "previous stored 8000, recomputed 4000",
			tamper: func(ev *EpochEvidence) {
				ev.History["b1-orgb"] = append([]records.SLABreakdown{{Node: "b1-orgb", Epoch: 40, Score: 4000, State: records.SLAStateWarning, Below: 1}}, ev.History["b1-orgb"]...)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := verifyEvidence()
			if tt.tamper != nil {
				tt.tamper(ev)
			}
			vs := VerifyEpoch(ev)
			if len(vs) != 2 {
				t.Fatalf("%d verdicts: %v", len(vs), vs)
			}
			for _, v := range vs {
				wantOK := tt.bad != v.Node && !(tt.bad != "" && strings.Contains(tt.detail, "the ledger holds"))
				if v.OK != wantOK {
					t.Errorf("%s, want ok %v", v, wantOK)
				}
				if v.Node == tt.bad && !strings.Contains(v.Detail, tt.detail) {
					t.Errorf("%s, want the detail to name %q", v, tt.detail)
				}
			}
			if tt.bad == "" && (vs[0].Score != 7531 || vs[0].EpochScore != 6125 || vs[1].Score != 8500) {
				t.Fatalf("recomputed %+v", vs)
			}
		})
	}
}

// TestVerifyEpochSkipped: a node observed only by its own organisation, or
// scored for a later epoch before this one, is rightly skipped; a node
// others observed and that was skipped without a later score is not.
func TestVerifyEpochSkipped(t *testing.T) {
	ev := verifyEvidence()
	ev.Epoch.Nodes = []string{"a1-orga"}
	ev.Epoch.Skipped = []string{"b1-orgb"}
	ev.History["b1-orgb"][0].TxID, ev.History["b1-orgb"][0].Epoch = "tx51", 51
	if vs := VerifyEpoch(ev); !vs[0].OK || !vs[1].OK || vs[1].Scored {
		t.Fatalf("scored later: %v", vs)
	}
	ev.History["b1-orgb"] = nil
	if vs := VerifyEpoch(ev); vs[1].OK || !strings.Contains(vs[1].Detail, "other organisations observed it") {
		t.Fatalf("skipped without reason: %v", vs[1])
	}
	ev.Attestations[1].Observations = ev.Attestations[1].Observations[:1] // only org A's own a1 observation left of org A
	ev.Attestations = append(ev.Attestations, &records.SLAAttestation{Epoch: 50, AttesterMSP: "OrgBMSP", Attester: strings.Repeat("d", 64),
		Observations: []records.SLAObservation{{Node: "b1-orgb", ProbesSent: 1, ProbesAnswered: 1}}})
	ev.Epoch.Attestations = 4
	vs := VerifyEpoch(ev)
	if !vs[1].OK || !strings.Contains(vs[1].Detail, "own organisation only") {
		t.Fatalf("observed by its own organisation only: %v", vs[1])
	}
}
