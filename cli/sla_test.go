package cli_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/cli"
)

// slaAdmin serves the SLA view of epoch 9: org B's one attestation sees
// a1-orga (org A's) answer every probe, so its epoch score is 10000 and
// its score (10000 + 3 × 8000) / 4 = 8500; storedScore is what the ledger
// says it stored.
func slaAdmin(t *testing.T, storedScore int64) *httptest.Server {
	t.Helper()
	b := records.SLABreakdown{Node: "a1-orga", Org: "OrgAMSP", Epoch: 9, TxID: "tx9",
		Orgs:       []records.SLAOrgScore{{MSP: "OrgBMSP", Attesters: 1, Components: records.SLAComponents{Reach: 10000, Latency: -1, Integrity: -1}, Score: 10000}},
		EpochScore: 10000, Previous: 8000, PreviousState: records.SLAStateUnscored, Score: storedScore, State: records.SLAStateOK}
	bj, _ := json.Marshal(b)
	answers := map[string]any{
		"/v1/audit/sla/epochs/9": records.SLAEpoch{Epoch: 9, Attestations: 1, Nodes: []string{"a1-orga"}, Skipped: []string{}, TxID: "tx9"},
		"/v1/audit/sla/epochs/9/attestations": []records.SLAAttestation{{Epoch: 9, AttesterMSP: "OrgBMSP", Attester: strings.Repeat("b", 64),
			Observations: []records.SLAObservation{{Node: "a1-orga", ProbesSent: 100, ProbesAnswered: 100}}}},
		"/v1/audit/sla/nodes/a1-orga/record":  records.Node{ID: "a1-orga", Org: "OrgAMSP"},
		"/v1/audit/sla/nodes/a1-orga/history": []records.HistoryEntry{{TxID: "tx9", Value: string(bj)}},
		"/v1/audit/sla/scores":                []records.SLAScore{{Node: "a1-orga", Epoch: 9, Score: storedScore, State: records.SLAStateOK}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := answers[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"NOT_FOUND","message":"epoch 10 has not been scored"}}`))
			return
		}
		json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestVerifySLA: verify-sla reports every node matching when the stored
// scores are the formula's, and a tampered stored score as a mismatch
// with a non-zero exit; the sla commands read the view.
func TestVerifySLA(t *testing.T) {
	tests := []struct {
		name   string
		stored int64
		ok     bool
	}{
		{"stored as computed", 8500, true},
		{"a tampered stored score", 8400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := slaAdmin(t, tt.stored)
			out, err := runDCT("--admin", admin.URL, "audit", "verify-sla", "9")
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v\n%s", err, tt.ok, out)
			}
			if !tt.ok && !errors.Is(err, cli.ErrMismatch) {
				t.Fatalf("err = %v, want ErrMismatch", err)
			}
			var vs []struct {
				Node  string `json:"node"`
				OK    bool   `json:"ok"`
				Score int64  `json:"score"`
				Store int64  `json:"storedScore"`
			}
			if json.Unmarshal([]byte(out), &vs) != nil || len(vs) != 1 || vs[0].OK != tt.ok || vs[0].Score != 8500 || vs[0].Store != tt.stored {
				t.Fatalf("verdicts %s", out)
			}
			out, err = runDCT("--admin", admin.URL, "audit", "verify-sla", "9", "--format", "csv")
			if tt.ok != (err == nil) || !strings.HasPrefix(out, "node,ok,scored,") {
				t.Fatalf("CSV: %v %s", err, out)
			}
		})
	}
	admin := slaAdmin(t, 8500)
	if _, err := runDCT("--admin", admin.URL, "audit", "verify-sla", "10"); err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Fatalf("an unscored epoch: %v", err)
	}
	for _, args := range [][]string{{"audit", "verify-sla", "-1"}, {"audit", "verify-sla", "x"}, {"sla", "attestations", "x"}, {"sla", "show"}} {
		if _, err := runDCT(append([]string{"--admin", admin.URL}, args...)...); err == nil {
			t.Fatalf("%v accepted", args)
		}
	}
	out, err := runDCT("--admin", admin.URL, "sla", "scores")
	if err != nil || !strings.Contains(out, `"score": 8500`) {
		t.Fatalf("sla scores: %v %s", err, out)
	}
	out, err = runDCT("--admin", admin.URL, "sla", "history", "a1-orga")
	if err != nil || !strings.Contains(out, "tx9") {
		t.Fatalf("sla history: %v %s", err, out)
	}
}
