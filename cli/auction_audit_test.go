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

// auctionAdmin serves the auction view of one cleared auction: 3 shards
// among 3 bidders, each winning one at the highest winning bid (30);
// contractPrice is the storage price the ledger's first contract says.
func auctionAdmin(t *testing.T, id string, contractPrice int64) *httptest.Server {
	t.Helper()
	a := records.Auction{ID: id, AuctionInput: records.AuctionInput{Object: "b/x", Shards: 3, K: 2, Replicas: 1, ShardSize: 1000, TermSeconds: 3600,
		MaxStoragePerGBMonth: 1000, MaxDeliveryPerMiB: 10, RevealSeconds: 60},
		Publisher: "OrgBMSP", Status: records.AuctionCleared, ClearedAt: "2026-11-29T12:00:00Z", ClearTxID: "txc",
		StoragePerGBMonth: 30, DeliveryPerMiB: 1}
	var reveals []records.Reveal
	var contracts []records.Contract
	for i, n := range []string{"n1-orga", "n2-orga", "n3-orga"} {
		a.Bids = append(a.Bids, records.SnapshotBid{Node: n, Org: "OrgAMSP", Hash: "h"})
		reveals = append(reveals, records.Reveal{Auction: id, Terms: records.BidTerms{Node: n, StoragePerGBMonth: int64(10 * (i + 1)), DeliveryPerMiB: 1,
			CapacityBytes: 1 << 30, BandwidthBps: 1e9}})
		a.Inputs = append(a.Inputs, records.NewClearingInput(&records.Node{ID: n, Org: "OrgAMSP", Status: records.NodeStatusActive, Zone: "z1",
			StorageBytes: 1 << 40, BandwidthBps: 1e10}, nil))
	}
	res := records.ClearAuction(records.ClearInputOf(&a, ptrs(reveals)))
	if res.Failure != "" || res.StoragePerGBMonth != 30 {
		t.Fatalf("clearing %+v", res)
	}
	a.Awards = res.Awards
	for _, w := range res.Awards {
		contracts = append(contracts, records.Contract{Auction: id, Object: "b/x", Publisher: "OrgBMSP", Shard: w.Shard, Node: w.Node, Org: "OrgAMSP",
			ShardSize: 1000, StoragePerGBMonth: 30, DeliveryPerMiB: 1, Start: a.ClearedAt, End: "2026-11-29T13:00:00Z", TxID: "txc", Root: id, SLAFloor: a.SLAFloor})
	}
	contracts[0].StoragePerGBMonth = contractPrice
	answers := map[string]any{
		"/v1/audit/auctions/" + id:                a,
		"/v1/audit/auctions/" + id + "/reveals":   reveals,
		"/v1/audit/auctions/" + id + "/contracts": contracts,
	}
	// n1 and n2 were never scored: the ledger answers NOT_FOUND (404).
	answers["/v1/audit/sla/nodes/n3-orga/history"] = []records.HistoryEntry{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := answers[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"NOT_FOUND","message":"DCT-NOT_FOUND: SLA breakdown has no history"}}`))
			return
		}
		json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ptrs[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

// TestVerifyAuction: verify-auction reports every check matching for an
// auction stored as cleared, and a tampered contract as a MISMATCH with
// a non-zero exit.
func TestVerifyAuction(t *testing.T) {
	id := strings.Repeat("c", 64)
	tests := []struct {
		name  string
		price int64
		ok    bool
	}{
		{"stored as cleared", 30, true},
		{"a tampered contract", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := auctionAdmin(t, id, tt.price)
			out, err := runDCT("--admin", admin.URL, "audit", "verify-auction", id)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v\n%s", err, tt.ok, out)
			}
			if !tt.ok && !errors.Is(err, cli.ErrMismatch) {
				t.Fatalf("err = %v, want ErrMismatch", err)
			}
			var cs []struct {
				What string `json:"what"`
				OK   bool   `json:"ok"`
			}
			if json.Unmarshal([]byte(out), &cs) != nil || len(cs) < 6 {
				t.Fatalf("checks %s", out)
			}
			for _, c := range cs {
				if c.OK != (tt.ok || c.What != "contracts") {
					t.Errorf("check %s ok = %v", c.What, c.OK)
				}
			}
			out, err = runDCT("--admin", admin.URL, "audit", "verify-auction", id, "--format", "csv")
			if tt.ok != (err == nil) || !strings.HasPrefix(out, "what,ok,stored,recomputed") {
				t.Fatalf("CSV: %v %s", err, out)
			}
		})
	}
	if _, err := runDCT("--admin", "https://127.0.0.1:1", "audit", "verify-auction", "not-an-id"); records.CodeOf(err) != records.CodeInvalid {
		t.Fatalf("malformed id: %v", err)
	}
}
