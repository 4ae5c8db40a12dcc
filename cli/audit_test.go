package cli_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/cli"
	"github.com/dct-network/dct/pkg/receipts"
)

// runDCT runs the command line with args.
func runDCT(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), err
}

// commitLedger accepts every batch (receipts.Ledger).
type commitLedger struct {
	batches map[string]*records.BatchInput
}

func (l *commitLedger) CommitBatch(_ context.Context, in *records.BatchInput) (string, error) {
	id := "batch-" + in.Root[:12]
	l.batches[id] = in
	return id, nil
}

func (l *commitLedger) ProveBatch(context.Context, string, []records.SampledLeaf) error { return nil }

// testBundle is a real receipt bundle: receipts issued into a log,
// batched and submitted, leaf 3 read back with its proof.
func testBundle(t *testing.T) *receipts.Bundle {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	gwID := receipts.KeyIdentity("Org1MSP", cert, key)
	w, err := receipts.OpenWAL(t.TempDir(), receipts.WALOptions{Sealer: gwID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	now := time.Unix(6000, 0)
	is, err := receipts.NewIssuer(w, gwID, time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := is.Issue(context.Background(), receipts.Delivery{Publisher: "Org1MSP", Object: "a.txt", Version: "v1", Shard: i % 3,
			ShardHash: strings.Repeat("ab", 32), Node: "n1-org1", Bytes: int64(100 + i), Request: "req"}); err != nil {
			t.Fatal(err)
		}
	}
	l := &commitLedger{batches: map[string]*records.BatchInput{}}
	sub := &receipts.Submitter{WAL: w, Ledger: l, EpochLength: time.Minute, Now: func() time.Time { return now.Add(2 * time.Minute) }}
	if err := sub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id, in := range l.batches {
		b, err := receipts.NewBundle(w, &records.Batch{ID: id, GatewayMSP: "Org1MSP", Epoch: in.Epoch, Root: in.Root, Size: in.Size}, 3,
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatal("no batch submitted")
	return nil
}

// TestVerifyReceiptOffline: verify-receipt checks a bundle with no
// gateway; a tampered bundle or another file fails, non-zero.
func TestVerifyReceiptOffline(t *testing.T) {
	dir := t.TempDir()
	b := testBundle(t)
	write := func(name string, v any) string {
		p := filepath.Join(dir, name)
		data, _ := json.Marshal(v)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out, err := runDCT("audit", "verify-receipt", write("good.json", b))
	var res cli.VerifyResult
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || !res.OK || res.Index != 3 || res.Serial != b.Receipt.Serial {
		t.Fatalf("verify-receipt: %v\n%s", err, out)
	}
	out, err = runDCT("audit", "verify-receipt", "--format", "csv", write("good2.json", b))
	if err != nil || !strings.HasPrefix(out, "ok,what,detail,batchId,") || !strings.Contains(out, "\ntrue,receipt,") {
		t.Fatalf("verify-receipt CSV: %v\n%s", err, out)
	}
	bad := *b
	bad.Receipt.Node = "n2-org1"
	if out, err = runDCT("audit", "verify-receipt", write("bad.json", bad)); !errors.Is(err, cli.ErrMismatch) || !strings.Contains(out, `"ok": false`) {
		t.Fatalf("tampered bundle: %v\n%s", err, out)
	}
	if _, err = runDCT("audit", "verify-receipt", write("other.json", map[string]string{"x": "y"})); err == nil || errors.Is(err, cli.ErrMismatch) {
		t.Fatalf("not a bundle: %v", err)
	}
}

// TestAuditCommands: the audit commands ask the admin listener for the
// format given and write its answer; verify-object compares the bytes a
// public listener serves with the ledger's manifest.
func TestAuditCommands(t *testing.T) {
	content := []byte("hello, auditor")
	sum := sha256.Sum256(content)
	var mu sync.Mutex
	var asked []string
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		switch {
		case r.URL.Path == "/v1/audit/nodes/n1-org1/payments" && r.URL.Query().Get("format") == "csv":
			w.Header().Set("Content-Type", "text/csv")
			w.Write([]byte("node,ref\nn1-org1,b/n1-org1/Org1MSP\n"))
		case r.URL.Path == "/v1/audit/history/manifest/site/a.txt":
			w.Write([]byte(`[{"txId":"t1","timestamp":"x","isDelete":false,"value":"{}"}]`))
		case r.URL.Path == "/v1/audit/objects/site/a.txt":
			json.NewEncoder(w).Encode(records.Manifest{Name: "site/a.txt", Version: "v3", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])})
		case r.URL.Path == "/v1/audit/accounts/Org2MSP":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"PERMISSION_DENIED","message":"private to Org2MSP"}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer admin.Close()
	serve := func(b []byte) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/cdn/site/a.txt@v3" {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		}))
	}
	good, bad := serve(content), serve(append([]byte("H"), content[1:]...))
	defer good.Close()
	defer bad.Close()

	out, err := runDCT("--admin", admin.URL, "audit", "payments", "n1-org1", "--format", "csv")
	if err != nil || out != "node,ref\nn1-org1,b/n1-org1/Org1MSP\n" {
		t.Fatalf("payments CSV: %v %q", err, out)
	}
	file := filepath.Join(t.TempDir(), "h.json")
	if _, err := runDCT("--admin", admin.URL, "audit", "history", "manifest", "site/a.txt", "v2", "-o", file); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), `"txId": "t1"`) {
		t.Fatalf("history file: %s", b)
	}
	mu.Lock()
	last := asked[len(asked)-1]
	mu.Unlock()
	if last != "/v1/audit/history/manifest/site/a.txt?version=v2&format=json" {
		t.Fatalf("asked %q", last)
	}
	if _, err := runDCT("--admin", admin.URL, "audit", "account", "Org2MSP"); err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
		t.Fatalf("refused read: %v", err)
	}
	out, err = runDCT("--admin", admin.URL, "audit", "verify-object", "--public", good.URL, "site/a.txt")
	var res cli.VerifyResult
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || !res.OK || res.Version != "v3" {
		t.Fatalf("verify-object: %v\n%s", err, out)
	}
	out, err = runDCT("--admin", admin.URL, "audit", "verify-object", "--public", bad.URL, "site/a.txt", "--format", "csv")
	if !errors.Is(err, cli.ErrMismatch) || !strings.Contains(out, "\nfalse,object,") {
		t.Fatalf("verify-object of other bytes: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"audit", "history", "bogus", "x"},
		{"audit", "history", "manifest", "site/a.txt"},
		{"audit", "payments", "n1-org1", "--format", "xml"},
		{"audit", "receipt", "b", "x"},
	} {
		if _, err := runDCT(append([]string{"--admin", admin.URL}, args...)...); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
