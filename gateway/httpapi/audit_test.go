package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
)

// fakeAudit is the audit view of a ledger applying the chaincode's rule:
// an organisation's figures for its members and for the auditor.
type fakeAudit struct {
	mu      sync.Mutex
	auditor ledger.As
	asked   []ledger.As
}

func (f *fakeAudit) decide(as ledger.As, org string) error {
	f.mu.Lock()
	f.asked = append(f.asked, as)
	f.mu.Unlock()
	if as == f.auditor || as.MSPID == org {
		return nil
	}
	return records.Errorf(records.CodeForbidden, "certificate %s of %s may not read the figures of %s", as.CertHash, as.MSPID, org)
}

func (f *fakeAudit) AuditHistory(_ context.Context, kind, key, sub string, as ledger.As) ([]*records.HistoryEntry, error) {
	if kind == records.HistoryAccount {
		if err := f.decide(as, key); err != nil {
			return nil, err
		}
	}
	if kind == records.HistoryNode && key != "n1-org1" {
		return nil, records.Errorf(records.CodeNotFound, "node %q has no history", key)
	}
	return []*records.HistoryEntry{
		{TxID: "tx1", Timestamp: "2026-01-01T00:00:00Z", Value: fmt.Sprintf(`{"kind":%q,"key":%q,"sub":%q}`, kind, key, sub)},
		{TxID: "tx2", Timestamp: "2026-01-01T00:01:00Z", Value: `{"a":1,"b":"x,y"}`},
	}, nil
}

func (f *fakeAudit) AuditNodePayments(_ context.Context, id string, as ledger.As) (*records.NodePayments, error) {
	if err := f.decide(as, "Org1MSP"); err != nil {
		return nil, err
	}
	p := &records.NodePayments{Node: id, Org: "Org1MSP", Bytes: 300, Amount: 3}
	for i, n := range []int64{100, 200} {
		b := fmt.Sprintf("batch%d", i)
		p.Payments = append(p.Payments, records.NodePayment{
			Payout: records.Payout{Ref: records.PayoutRef(b, id, "Org2MSP"), Payer: "Org2MSP", Payee: "Org1MSP", Bytes: n, Amount: n / 100, Status: records.PayoutPaid},
			Batch:  records.BatchSummary{ID: b, GatewayMSP: "Org1MSP", Epoch: int64(10 + i), Status: records.BatchAccepted, Receipts: 1, Bytes: n, Size: 4},
		})
	}
	return p, nil
}

func (f *fakeAudit) AuditAccount(_ context.Context, msp string, as ledger.As) (*records.Account, error) {
	if err := f.decide(as, msp); err != nil {
		return nil, err
	}
	return &records.Account{MSPID: msp, Balance: 7, Escrow: 3, Issued: 10}, nil
}

func (f *fakeAudit) GetBatch(_ context.Context, id string) (*records.Batch, error) {
	if id != "batch0" {
		return nil, records.Errorf(records.CodeNotFound, "batch %q does not exist", id)
	}
	return &records.Batch{ID: id, GatewayMSP: "Org1MSP", Epoch: 10, Root: "ab", Size: 4, Status: records.BatchAccepted}, nil
}

func (f *fakeAudit) GetManifest(_ context.Context, name, version string) (*records.Manifest, error) {
	return &records.Manifest{Name: name, Version: version, Size: 10, SHA256: "cafe", Shards: []records.Shard{
		{Index: 0, Hash: "h0", Size: 5, Nodes: []string{"n1-org1"}}, {Index: 1, Hash: "h1", Size: 5, Nodes: []string{"n2-org1", "n3-org1"}},
	}}, nil
}

func (f *fakeAudit) LatestManifest(ctx context.Context, name string) (*records.Manifest, error) {
	return f.GetManifest(ctx, name, "v9")
}

// fakeBundles serves a fixed bundle for leaves of batch0.
type fakeBundles struct{}

func (fakeBundles) Bundle(_ context.Context, b *records.Batch, index int64) (*receipts.Bundle, error) {
	if index >= b.Size {
		return nil, fmt.Errorf("%w: leaf %d outside", receipts.ErrNotInLog, index)
	}
	return &receipts.Bundle{BatchID: b.ID, GatewayMSP: b.GatewayMSP, Epoch: b.Epoch, Root: b.Root, Size: b.Size, Index: index,
		SealedReceipt: records.SealedReceipt{Receipt: records.Receipt{Serial: "s1", Node: "n1-org1", Object: "a.txt", Version: "v1", Bytes: 5}}, Proof: [][]byte{{1, 2}}, GatewayCert: "PEM"}, nil
}

func readCSV(t *testing.T, a answer) [][]string {
	t.Helper()
	if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV answer: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, a.body)
	}
	return rows
}

// TestAuditEndpoints: the audit endpoints of the admin listener answer
// JSON and CSV, name the caller to the ledger (which decides), map its
// refusals to 403 PERMISSION_DENIED, and check their input.
func TestAuditEndpoints(t *testing.T) {
	f := newFixture(t)
	fa := &fakeAudit{}
	a := newAdminServer(t, f.svc, 0, 0, func(c *httpapi.AdminConfig) { c.Audit, c.Receipts = fa, fakeBundles{} })
	fa.auditor = ledger.As{MSPID: "Org1MSP", CertHash: records.CertHash(a.auditor1.Leaf)}

	// History, JSON and CSV (a value with commas survives).
	got := a.do(t, a.publisher2, http.MethodGet, "/v1/audit/history/node/n1-org1", nil)
	var h []*records.HistoryEntry
	if got.status != http.StatusOK || json.Unmarshal(got.body, &h) != nil || len(h) != 2 || h[0].TxID != "tx1" {
		t.Fatalf("node history: %d %s", got.status, got.body)
	}
	rows := readCSV(t, a.do(t, a.publisher2, http.MethodGet, "/v1/audit/history/node/n1-org1?format=csv", nil))
	if len(rows) != 3 || !slices.Equal(rows[0], []string{"txId", "timestamp", "isDelete", "value"}) || rows[2][3] != `{"a":1,"b":"x,y"}` || rows[1][2] != "false" {
		t.Fatalf("node history CSV: %q", rows)
	}
	got = a.do(t, a.auditor1, http.MethodGet, "/v1/audit/history/manifest/site/a.txt?version=v2", nil)
	if got.status != http.StatusOK || !strings.Contains(string(got.body), `\"key\":\"site/a.txt\",\"sub\":\"v2\"`) {
		t.Fatalf("manifest history: %d %s", got.status, got.body)
	}
	got = a.do(t, a.auditor1, http.MethodGet, "/v1/audit/history/identity/Org2MSP/abc", nil)
	if got.status != http.StatusOK || !strings.Contains(string(got.body), `\"key\":\"Org2MSP\",\"sub\":\"abc\"`) {
		t.Fatalf("identity history: %d %s", got.status, got.body)
	}

	// Private figures: the auditor reads them, another organisation's
	// publisher is refused by the ledger, named as itself.
	for _, c := range []struct {
		path string
		rows int
	}{
		{"/v1/audit/history/account/Org2MSP", 3},
		{"/v1/audit/accounts/Org2MSP", 2},
	} {
		rows := readCSV(t, a.do(t, a.auditor1, http.MethodGet, c.path+"?format=csv", nil))
		if len(rows) != c.rows {
			t.Fatalf("%s as the auditor: %q", c.path, rows)
		}
		wantError(t, a.do(t, a.publisher1, http.MethodGet, c.path, nil), http.StatusForbidden, api.CodeForbidden)
	}
	got = a.do(t, a.publisher2, http.MethodGet, "/v1/audit/nodes/n1-org1/payments", nil)
	wantError(t, got, http.StatusForbidden, api.CodeForbidden)
	if !strings.Contains(string(got.body), "may not read the figures of Org1MSP") {
		t.Fatalf("refusal message: %s", got.body)
	}
	fa.mu.Lock()
	last := fa.asked[len(fa.asked)-1]
	fa.mu.Unlock()
	if last != (ledger.As{MSPID: "Org2MSP", CertHash: records.CertHash(a.publisher2.Leaf)}) {
		t.Fatalf("the ledger was asked for %+v, not the caller", last)
	}

	// Payments: JSON, and CSV with one row per payment and its batch.
	got = a.do(t, a.auditor1, http.MethodGet, "/v1/audit/nodes/n1-org1/payments", nil)
	var p records.NodePayments
	if got.status != http.StatusOK || json.Unmarshal(got.body, &p) != nil || len(p.Payments) != 2 || p.Payments[1].Batch.ID != "batch1" {
		t.Fatalf("payments: %d %s", got.status, got.body)
	}
	rows = readCSV(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/nodes/n1-org1/payments?format=csv", nil))
	if len(rows) != 3 || rows[0][2] != "ref" || rows[1][2] != "batch0/n1-org1/Org2MSP" || rows[2][12] != "batch1" || rows[2][18] != "200" {
		t.Fatalf("payments CSV: %q", rows)
	}

	// Receipt bundles: for the auditor and the gateway's organisation.
	got = a.do(t, a.auditor1, http.MethodGet, "/v1/audit/batches/batch0/receipts/2", nil)
	var b receipts.Bundle
	if got.status != http.StatusOK || json.Unmarshal(got.body, &b) != nil || b.Index != 2 || b.Root != "ab" || b.Receipt.Serial != "s1" {
		t.Fatalf("bundle: %d %s", got.status, got.body)
	}
	rows = readCSV(t, a.do(t, a.publisher1, http.MethodGet, "/v1/audit/batches/batch0/receipts/0?format=csv", nil))
	if len(rows) != 2 || rows[0][0] != "batchId" || rows[1][14] != "0102" {
		t.Fatalf("bundle CSV: %q", rows)
	}
	wantError(t, a.do(t, a.publisher2, http.MethodGet, "/v1/audit/batches/batch0/receipts/0", nil), http.StatusForbidden, api.CodeForbidden)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/batches/batch0/receipts/9", nil), http.StatusNotFound, api.CodeNotFound)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/batches/nope/receipts/0", nil), http.StatusNotFound, api.CodeNotFound)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/batches/batch0/receipts/-1", nil), http.StatusBadRequest, api.CodeInvalid)

	// Objects: the ledger's hashes, CSV one row per shard.
	got = a.do(t, a.publisher2, http.MethodGet, "/v1/audit/objects/site/a.txt", nil)
	var m records.Manifest
	if got.status != http.StatusOK || json.Unmarshal(got.body, &m) != nil || m.Version != "v9" || m.SHA256 != "cafe" {
		t.Fatalf("object: %d %s", got.status, got.body)
	}
	rows = readCSV(t, a.do(t, a.publisher2, http.MethodGet, "/v1/audit/objects/site/a.txt?version=v1&format=csv", nil))
	if len(rows) != 3 || rows[1][1] != "v1" || rows[2][12] != "n2-org1 n3-org1" {
		t.Fatalf("object CSV: %q", rows)
	}

	// Bad input, unknown records, strangers.
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/history/node/n1-org1?format=xml", nil), http.StatusBadRequest, api.CodeInvalid)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/history/manifest/a.txt", nil), http.StatusBadRequest, api.CodeInvalid)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/history/identity/nohash", nil), http.StatusBadRequest, api.CodeInvalid)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/history/node/n9", nil), http.StatusNotFound, api.CodeNotFound)
	wantError(t, a.do(t, a.stranger1, http.MethodGet, "/v1/audit/nodes/n1-org1/payments", nil), http.StatusUnauthorized, api.CodeUnauthenticated)
	wantError(t, a.do(t, a.auditor1, http.MethodPost, "/v1/audit/nodes/n1-org1/payments", nil), http.StatusMethodNotAllowed, api.CodeMethodNotAllowed)

	// A gateway built without the audit view answers 404.
	plain := newAdminServer(t, f.svc, 0, 0)
	wantError(t, plain.do(t, plain.auditor1, http.MethodGet, "/v1/audit/nodes/n1-org1/payments", nil), http.StatusNotFound, api.CodeNotFound)
}

// wantError checks an error answer's status and code.
func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.code(t) != code {
		t.Fatalf("answer %d %s, want %d %s", a.status, a.body, status, code)
	}
}
