//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/cli"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// auditedDeliveries are TestDeliveryPaid's reads, receipted and paid: what
// the auditor checks.
type auditedDeliveries struct {
	gateway   testnetwork.GatewayInfo
	publisher string
	name      string
	body      []byte
	batches   map[int64]*records.Batch // by epoch, accepted
	receipts  []records.Receipt
}

// auditorLedger is a ledger client of the first gateway's organisation's
// auditor (User3).
func auditorLedger(t *testing.T) *ledger.Client {
	t.Helper()
	return roleLedger(t, env.Gateways[0].Org, testnetwork.RoleAuditor)
}

// roleLedger is a ledger client of organisation mspID's identity with role.
func roleLedger(t *testing.T, mspID, role string) *ledger.Client {
	t.Helper()
	for i, o := range env.Orgs {
		if o.MSPID != mspID {
			continue
		}
		id, err := o.Identity(role)
		if err != nil {
			t.Fatal(err)
		}
		s, err := id.Signer(o.MSPID)
		if err != nil {
			t.Fatal(err)
		}
		return ledgerClient(t, i, s)
	}
	t.Fatalf("no organisation %s", mspID)
	return nil
}

// auditCLI runs dct as the gateway's organisation's auditor and returns
// its standard output.
func auditCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	out, stderr, err := runCLIAs(t, testnetwork.RoleAuditor, append([]string{"audit"}, args...)...)
	if err != nil {
		t.Fatalf("dct audit %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return []byte(out)
}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// checkAuditorView: as the auditor, through the CLI and the gateway's
// admin listener, read a node's history and its payments with the batches
// behind them (which match what the ledger accepted), export them as CSV,
// fetch a receipt bundle and verify it offline (and see a tampered one
// fail), check the bytes the gateway serves against the ledger's hash
// (and see a server of other bytes fail); as a publisher of another
// organisation, be refused the figures private to the first one.
func checkAuditorView(t *testing.T, ctx context.Context, d auditedDeliveries) {
	dir := t.TempDir()
	auditor := auditorLedger(t)

	// Leaf indices of our receipts: the log's order within each epoch is
	// the batch's.
	index := map[string]int64{}
	next := map[int64]int64{}
	if err := receipts.ReadDir(d.gateway.ReceiptsDir, func(l receipts.Logged) error {
		index[l.Receipt.Serial] = next[l.Receipt.Epoch]
		next[l.Receipt.Epoch]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Node history and payments, for a node that served us.
	r0 := d.receipts[0]
	node := r0.Node
	h := decodeJSON[[]*records.HistoryEntry](t, auditCLI(t, "history", "node", node))
	if len(h) == 0 || !strings.Contains(h[len(h)-1].Value, `"id":"`+node+`"`) {
		t.Fatalf("history of node %s: %+v", node, h)
	}
	pay := decodeJSON[records.NodePayments](t, auditCLI(t, "payments", node))
	owner, err := auditor.GetNode(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Node != node || pay.Org != owner.Org {
		t.Fatalf("payments of %s: node %s of %s, want %s", node, pay.Node, pay.Org, owner.Org)
	}
	checked := 0
	for _, b := range d.batches {
		for _, p := range b.Payouts {
			if _, n, _, _ := records.ParsePayoutRef(p.Ref); n != node {
				continue
			}
			i := slices.IndexFunc(pay.Payments, func(np records.NodePayment) bool { return np.Payout.Ref == p.Ref })
			if i < 0 {
				t.Fatalf("payout %s of batch %s missing from the payments of %s", p.Ref, b.ID, node)
			}
			np := pay.Payments[i]
			at := slices.IndexFunc(b.Accepted, func(nt records.NodeTotal) bool { return nt.Node == node && nt.Publisher == d.publisher })
			if np.Payout.Amount != p.Amount || np.Payout.Bytes != p.Bytes || np.Batch.ID != b.ID || np.Batch.Epoch != b.Epoch ||
				np.Batch.Status != records.BatchAccepted || np.Batch.GatewayMSP != b.GatewayMSP || at < 0 || np.Batch.Bytes != b.Accepted[at].Bytes {
				t.Fatalf("payment %+v does not match batch %s's payout %+v and accepted totals %+v", np, b.ID, p, b.Accepted)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatalf("no payout of node %s in batches %v", node, d.batches)
	}

	// CSV export: a header and one row per payment.
	csvFile := filepath.Join(dir, "payments.csv")
	auditCLI(t, "payments", node, "--format", "csv", "-o", csvFile)
	rows := readCSVFile(t, csvFile)
	if len(rows) != len(pay.Payments)+1 || rows[0][2] != "ref" || !slices.ContainsFunc(rows[1:], func(r []string) bool { return r[2] == pay.Payments[0].Payout.Ref }) {
		t.Fatalf("payments CSV: %q", rows)
	}
	rows = readCSVFromBytes(t, auditCLI(t, "history", "account", pay.Org, "--format", "csv"))
	if len(rows) < 2 || !slices.Equal(rows[0], []string{"txId", "timestamp", "isDelete", "value"}) {
		t.Fatalf("account history CSV: %q", rows)
	}

	// A receipt bundle, verified offline: dct with no gateway at all.
	b := d.batches[r0.Epoch]
	bundleFile := filepath.Join(dir, "bundle.json")
	auditCLI(t, "receipt", b.ID, itoa(index[r0.Serial]), "-o", bundleFile)
	bundle := decodeJSON[receipts.Bundle](t, readFile(t, bundleFile))
	if bundle.Receipt.Serial != r0.Serial || bundle.Root != b.Root || bundle.Size != b.Size {
		t.Fatalf("bundle %+v, want receipt %s of batch %s (root %s, size %d)", bundle, r0.Serial, b.ID, b.Root, b.Size)
	}
	res := decodeJSON[cli.VerifyResult](t, offlineCLI(t, nil, "audit", "verify-receipt", bundleFile))
	if !res.OK || res.BatchID != b.ID {
		t.Fatalf("verify-receipt: %+v", res)
	}
	bundle.Receipt.Bytes++
	tampered := filepath.Join(dir, "tampered.json")
	writeJSON(t, tampered, bundle)
	if _, err := runOffline(nil, "audit", "verify-receipt", tampered); !errors.Is(err, cli.ErrMismatch) {
		t.Fatalf("verify-receipt of a tampered bundle: %v, want a mismatch", err)
	}

	// The bytes the gateway's public listener serves match the ledger; a
	// server of other bytes does not.
	res = decodeJSON[cli.VerifyResult](t, auditCLI(t, "verify-object", "--public", d.gateway.URL, d.name))
	if !res.OK || res.ServedSHA != sha256Hex(d.body) {
		t.Fatalf("verify-object: %+v", res)
	}
	bad := append(slices.Clone(d.body[:len(d.body)-1]), d.body[len(d.body)-1]^1)
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(bad) }))
	defer liar.Close()
	out, _, err := runCLIAs(t, testnetwork.RoleAuditor, "audit", "verify-object", "--public", liar.URL, d.name)
	if !errors.Is(err, cli.ErrMismatch) || decodeJSON[cli.VerifyResult](t, []byte(out)).OK {
		t.Fatalf("verify-object against other bytes: %v\n%s", err, out)
	}

	// A publisher of another organisation: the evidence is open to it,
	// the first organisation's figures are not (REST and chaincode).
	var other string
	for _, o := range env.Orgs {
		if o.MSPID != pay.Org {
			other = o.MSPID
			break
		}
	}
	outsider, err := testenv.Client(env, d.gateway, other, testnetwork.RolePublisher)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outsider.AuditHistory(ctx, records.HistoryNode, node, ""); err != nil {
		t.Fatalf("%s's publisher reading node %s's history: %v", other, node, err)
	}
	for what, call := range map[string]func() error{
		"payments of " + node:   func() error { _, err := outsider.AuditNodePayments(ctx, node); return err },
		"account of " + pay.Org: func() error { _, err := outsider.AuditAccount(ctx, pay.Org); return err },
		"account history":       func() error { _, err := outsider.AuditHistory(ctx, records.HistoryAccount, pay.Org, ""); return err },
	} {
		if err := call(); !gatewayclient.IsCode(err, api.CodeForbidden) {
			t.Fatalf("%s's publisher reading the %s: %v, want 403 %s", other, what, err, api.CodeForbidden)
		}
	}
	direct := roleLedger(t, other, testnetwork.RolePublisher)
	if _, err := direct.Account(ctx, pay.Org); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("%s's publisher reading %s's account on the ledger: %v, want PERMISSION_DENIED", other, pay.Org, err)
	}
	if _, err := direct.Payouts(ctx, pay.Org); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("%s's publisher reading the payouts to %s on the ledger: %v, want PERMISSION_DENIED", other, pay.Org, err)
	}
	// The auditor reads them, through the gateway too.
	auditorREST, err := testenv.Client(env, d.gateway, "", testnetwork.RoleAuditor)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := auditorREST.AuditAccount(ctx, other); err != nil || a.MSPID != other {
		t.Fatalf("the auditor reading %s's account: %+v, %v", other, a, err)
	}
	t.Logf("auditor: %d payments of node %s (%d bytes, %d tokens), receipt %s of batch %s verified offline, %s matches the ledger",
		len(pay.Payments), node, pay.Bytes, pay.Amount, r0.Serial, b.ID, d.name)
}

// runOffline runs dct with args and no gateway flags.
func runOffline(stdin []byte, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	cmd.SetArgs(args)
	if stdin != nil {
		cmd.SetIn(bytes.NewReader(stdin))
	}
	err := cmd.Execute()
	return stdout.Bytes(), err
}

func offlineCLI(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := runOffline(stdin, args...)
	if err != nil {
		t.Fatalf("dct %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	return readCSVFromBytes(t, readFile(t, path))
}

func readCSVFromBytes(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("CSV %s: %v", b, err)
	}
	return rows
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// gatewayIdentity is the receipts identity of mspID's gateway identity
// (the gateways run as it): a copy of a gateway's receipt log opens under
// it.
func gatewayIdentity(t *testing.T, mspID string) receipts.Identity {
	t.Helper()
	for _, o := range env.Orgs {
		if o.MSPID != mspID {
			continue
		}
		id, err := o.Identity(testnetwork.RoleGateway)
		if err != nil {
			t.Fatal(err)
		}
		rid, err := ledger.ReceiptIdentity(o.MSPID, id.Cert, id.KeyDir)
		if err != nil {
			t.Fatal(err)
		}
		return rid
	}
	t.Fatalf("no organisation %s", mspID)
	return receipts.Identity{}
}
