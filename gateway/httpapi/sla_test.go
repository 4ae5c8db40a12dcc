package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
)

// fakeSLA answers the SLA reads like the chaincode for one scored node
// n1-org1 of epoch 7.
type fakeSLA struct{}

var slaScore = &records.SLAScore{Node: "n1-org1", Epoch: 7, Score: 7531, State: records.SLAStateOK}

func (fakeSLA) SLAScores(context.Context) ([]*records.SLAScore, error) {
	return []*records.SLAScore{slaScore}, nil
}
func (fakeSLA) SLAScore(_ context.Context, n string) (*records.SLAScore, error) {
	if n != slaScore.Node {
		return nil, fmt.Errorf("%w: DCT-NOT_FOUND: node %q", records.ErrNotFound, n)
	}
	return slaScore, nil
}
func (fakeSLA) SLABreakdown(_ context.Context, n string) (*records.SLABreakdown, error) {
	return &records.SLABreakdown{Node: n, Org: "Org1MSP", Epoch: 7, Score: 7531, State: records.SLAStateOK,
		Orgs: []records.SLAOrgScore{{MSP: "Org2MSP", Attesters: 2, Score: 6125}}}, nil
}
func (fakeSLA) SLAHistory(context.Context, string) ([]*records.HistoryEntry, error) {
	return []*records.HistoryEntry{{TxID: "tx7", Value: `{"node":"n1-org1"}`}}, nil
}
func (fakeSLA) SLAEpoch(_ context.Context, e int64) (*records.SLAEpoch, error) {
	return &records.SLAEpoch{Epoch: e, Attestations: 2, Nodes: []string{"n1-org1"}, Skipped: []string{}, TxID: "tx7"}, nil
}
func (fakeSLA) SLAAttestations(_ context.Context, e int64) ([]*records.SLAAttestation, error) {
	return []*records.SLAAttestation{{Epoch: e, AttesterMSP: "Org2MSP", Attester: "ab", Observations: []records.SLAObservation{
		{Node: "n1-org1", ProbesSent: 10, ProbesAnswered: 9}, {Node: "n2-org1", ProbesSent: 10, ProbesAnswered: 10}}}}, nil
}
func (fakeSLA) GetNode(_ context.Context, id string) (*records.Node, error) {
	return &records.Node{ID: id, Org: "Org1MSP", Status: records.NodeStatusActive}, nil
}

// TestSLAEndpoints: any member reads the SLA view in JSON and CSV; bad
// epochs are 400, unknown nodes 404, and a gateway without the view 404.
func TestSLAEndpoints(t *testing.T) {
	f := newFixture(t)
	a := newAdminServer(t, f.svc, 0, 0, func(c *httpapi.AdminConfig) { c.SLA = fakeSLA{} })
	got := a.do(t, a.publisher2, http.MethodGet, "/v1/audit/sla/scores", nil)
	var all []*records.SLAScore
	if got.status != http.StatusOK || json.Unmarshal(got.body, &all) != nil || len(all) != 1 || *all[0] != *slaScore {
		t.Fatalf("scores: %d %s", got.status, got.body)
	}
	for _, c := range []struct {
		path string
		rows int
		cell string // rows[1][0]
	}{
		{"/v1/audit/sla/scores", 2, "n1-org1"},
		{"/v1/audit/sla/nodes/n1-org1", 2, "n1-org1"},
		{"/v1/audit/sla/nodes/n1-org1/breakdown", 2, "n1-org1"},
		{"/v1/audit/sla/nodes/n1-org1/history", 2, "tx7"},
		{"/v1/audit/sla/nodes/n1-org1/record", 2, "n1-org1"},
		{"/v1/audit/sla/epochs/7", 2, "7"},
		{"/v1/audit/sla/epochs/7/attestations", 3, "7"}, // one row per observation
	} {
		rows := readCSV(t, a.do(t, a.publisher1, http.MethodGet, c.path+"?format=csv", nil))
		if len(rows) != c.rows || rows[1][0] != c.cell {
			t.Errorf("%s CSV: %q", c.path, rows)
		}
	}
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/sla/epochs/-1", nil), http.StatusBadRequest, api.CodeInvalid)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/sla/epochs/x/attestations", nil), http.StatusBadRequest, api.CodeInvalid)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/sla/nodes/n9-org1", nil), http.StatusNotFound, api.CodeNotFound)

	none := newAdminServer(t, f.svc, 0, 0)
	wantError(t, none.do(t, none.auditor1, http.MethodGet, "/v1/audit/sla/scores", nil), http.StatusNotFound, api.CodeNotFound)
}
