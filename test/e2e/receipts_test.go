//go:build integration

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/receipts"
)

// TestDeliveryReceipts: a read through the gateway leaves receipts in its
// write-ahead log, one per shard used, naming the request (its
// X-Request-Id), each in a group commit whose seal the gateway's
// certificate verifies.
func TestDeliveryReceipts(t *testing.T) {
	gw := env.Gateways[0]
	if gw.ReceiptsDir == "" {
		t.Fatal("the test network's gateway logs no receipts")
	}
	body := payload(300<<10, 91)
	res := publish(t, "e2e/receipts/a.bin", "application/octet-stream", body)
	resp, got := do(t, http.MethodGet, res.VersionedURL, nil)
	if resp.StatusCode != http.StatusOK || len(got) != len(body) {
		t.Fatalf("GET: %s, %d bytes", resp.Status, len(got))
	}
	reqID := resp.Header.Get(api.RequestIDHeader)
	org, err := env.Org(gw.Org)
	if err != nil {
		t.Fatal(err)
	}
	id, err := org.Identity(netdesc.RoleGateway)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := receipts.LoadCertificate(id.Cert)
	if err != nil {
		t.Fatal(err)
	}
	var mine []receipts.Logged
	deadline := time.Now().Add(10 * time.Second)
	for len(mine) < k && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the group commit is every few ms
		mine = mine[:0]
		err := receipts.ReadDir(gw.ReceiptsDir, func(l receipts.Logged) error {
			if l.Receipt.Request == reqID {
				mine = append(mine, l)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(mine) < k {
		t.Fatalf("%d receipts for request %s, want at least k=%d", len(mine), reqID, k)
	}
	for _, l := range mine {
		r := l.Receipt
		if r.Object != "e2e/receipts/a.bin" || r.Version != res.Version || l.Publisher != gw.Org || r.GatewayMSP != gw.Org {
			t.Fatalf("receipt %+v (publisher %s)", r, l.Publisher)
		}
		if err := receipts.VerifySealed(&l.SealedReceipt, cert); err != nil {
			t.Fatal(err)
		}
		if l.Seal.Size < 1 || l.Seal.Size > records.MaxGroupReceipts {
			t.Fatalf("seal %+v", l.Seal)
		}
		forged := l.SealedReceipt
		forged.Receipt.Bytes *= 2
		if err := receipts.VerifySealed(&forged, cert); err == nil {
			t.Fatal("a receipt changed after its seal verifies")
		}
	}
}
