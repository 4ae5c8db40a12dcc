package cli_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/cli"
	"github.com/dct-network/dct/pkg/api"
)

// step is one command of a table test: its arguments, the error it must
// fail with ("" = none), substrings its stdout must hold in order, and a
// check of its stdout.
type step struct {
	name    string
	args    []string
	wantErr string
	stdout  []string
	check   func(t *testing.T, stdout string)
}

func (s step) verify(t *testing.T, stdout, stderr string, err error) {
	t.Helper()
	if s.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), s.wantErr) {
			t.Fatalf("error %v, want one naming %q (stdout %s, stderr %s)", err, s.wantErr, stdout, stderr)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v (stderr %s)", err, stderr)
	}
	rest := stdout
	for _, want := range s.stdout {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("stdout lacks %q after the previous lines:\n%s", want, stdout)
		}
		rest = rest[i+len(want):]
	}
	if s.check != nil {
		s.check(t, stdout)
	}
}

// TestPurgeAndReadCommands runs publish with surrogate keys, the read
// commands with --output json, verify, mesh, completion and the purges by
// key and soft purges against an in-process gateway (the in-memory
// ledger and agents behind the real HTTP API).
func TestPurgeAndReadCommands(t *testing.T) {
	srv := gateway(t)
	dir := t.TempDir()
	// Bodies of some size: a version whose data shards are all padding
	// shares their hashes with every other such version (see the report),
	// and a hard purge deletes shards by hash.
	pad := func(seed int64) string {
		b := make([]byte, 20000)
		rand.New(rand.NewSource(seed)).Read(b)
		return "\n/*" + hex.EncodeToString(b) + "*/"
	}
	for i, text := range []string{"alert(1)", "p{}", "<p>"} {
		name := []string{"a.js", "b.css", "c.html"}[i]
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text+pad(int64(i))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []step{
		{name: "publish tagged", args: []string{"publish", "-q", "--prefix", "r/", "--surrogate-key", "release-42,site", filepath.Join(dir, "a.js"), filepath.Join(dir, "b.css")},
			stdout: []string{"r/a.js", "r/b.css"}},
		{name: "publish tagged otherwise", args: []string{"publish", "-q", "--prefix", "r/", "-K", "site", filepath.Join(dir, "c.html")}, stdout: []string{"r/c.html"}},
		{name: "publish with a malformed key", args: []string{"publish", "-q", "--surrogate-key", "bad key", filepath.Join(dir, "c.html")}, wantErr: "--surrogate-key"},
		{name: "publish with too many keys", args: []string{"publish", "-q", "--surrogate-key", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", filepath.Join(dir, "c.html")}, wantErr: "at most 16"},
		{name: "list as JSON", args: []string{"list", "--output", "json"}, check: func(t *testing.T, out string) {
			var objs []*records.Object
			if err := json.Unmarshal([]byte(out), &objs); err != nil || len(objs) != 3 || objs[0].Name != "r/a.js" {
				t.Fatalf("list --output json: %v %s", err, out)
			}
		}},
		{name: "list with a bad output", args: []string{"list", "--output", "yaml"}, wantErr: "--output must be text or json"},
		{name: "show as text names the keys", args: []string{"show", "r/a.js", "--output", "text"}, stdout: []string{"r/a.js (owner Org1MSP, latest 1)", "release-42 site"}},
		{name: "show a version as JSON", args: []string{"show", "r/a.js", "--version", "1"}, check: func(t *testing.T, out string) {
			var m records.Manifest
			if err := json.Unmarshal([]byte(out), &m); err != nil || strings.Join(m.Keys, " ") != "release-42 site" {
				t.Fatalf("show --version: %v %s", err, out)
			}
		}},
		{name: "verify", args: []string{"verify", "r/b.css"}, stdout: []string{"OK r/b.css@1: 40008 bytes"}},
		{name: "verify as JSON", args: []string{"verify", "r/b.css@1", "--output", "json"}, check: func(t *testing.T, out string) {
			var r cli.VerifyResult
			if err := json.Unmarshal([]byte(out), &r); err != nil || !r.OK || r.Version != "1" || r.ServedSize != 40008 {
				t.Fatalf("verify --output json: %v %s", err, out)
			}
		}},
		{name: "whoami as JSON", args: []string{"whoami", "--output", "json"}, check: func(t *testing.T, out string) {
			var w api.WhoamiResponse
			if err := json.Unmarshal([]byte(out), &w); err != nil || w.MSPID != "Org1MSP" {
				t.Fatalf("whoami --output json: %v %s", err, out)
			}
		}},
		{name: "mesh without a mesh", args: []string{"mesh"}, stdout: []string{"without a mesh", "MEMBER", "shard reads"}},
		{name: "mesh as JSON", args: []string{"mesh", "--output", "json"}, check: func(t *testing.T, out string) {
			var m struct {
				Fetches api.MeshFetches `json:"fetches"`
			}
			if err := json.Unmarshal([]byte(out), &m); err != nil || m.Fetches.Reads == 0 {
				t.Fatalf("mesh --output json: %v %s", err, out)
			}
		}},
		{name: "soft purge by key", args: []string{"purge", "--surrogate-key", "site", "--soft", "--reason", "refresh"},
			stdout: []string{"soft purge of 3 versions", "r/a.js@1", "r/b.css@1", "r/c.html@1"}},
		{name: "content survives a soft purge", args: []string{"get", "r/a.js"}, stdout: []string{"alert(1)"}},
		{name: "soft purge by name", args: []string{"purge", "r/c.html", "--soft", "--reason", "refresh", "--output", "json"}, check: func(t *testing.T, out string) {
			var r api.PurgeByResponse
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.Purge.Mode != records.PurgeSoft || strings.Join(r.Purge.Targets, ",") != "r/c.html@1" {
				t.Fatalf("soft purge by name: %v %s", err, out)
			}
		}},
		{name: "hard purge by key", args: []string{"purge", "--surrogate-key", "release-42", "--reason", "recall"},
			stdout: []string{"hard purge of 2 versions", "r/a.js@1", "r/b.css@1"}},
		{name: "a hard-purged object is gone", args: []string{"get", "r/a.js@1"}, wantErr: "410 PURGED"},
		{name: "an untagged object stays", args: []string{"get", "r/c.html"}, stdout: []string{"<p>"}},
		{name: "purge a key tagging nothing", args: []string{"purge", "--surrogate-key", "release-42", "--reason", "again"}, wantErr: "404 NOT_FOUND"},
		{name: "purge a malformed key", args: []string{"purge", "--surrogate-key", "no/slash", "--reason", "r"}, wantErr: "400 INVALID_ARGUMENT"},
		{name: "purge by key and name", args: []string{"purge", "r/c.html", "-K", "site", "--reason", "r"}, wantErr: "not both"},
		{name: "purge by key with a version", args: []string{"purge", "--surrogate-key", "site", "--version", "1", "--reason", "r"}, wantErr: "--version applies to a purge by name"},
		{name: "nodes", args: []string{"nodes", "list"}, stdout: []string{"ID", "ORG", "n0", "Org1MSP", "z0", "active", "n5"}},
		{name: "nodes as JSON", args: []string{"nodes", "list", "--output", "json"}, check: func(t *testing.T, out string) {
			var nodes []*records.Node
			if err := json.Unmarshal([]byte(out), &nodes); err != nil || len(nodes) != 6 || nodes[0].ID != "n0" {
				t.Fatalf("nodes list --output json: %v %s", err, out)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			stdout, stderr, err := run(t, srv, s.args...)
			s.verify(t, stdout, stderr, err)
		})
	}
	// Shell completion: cobra's script, and object names from the gateway.
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"completion", "bash"}, []string{"bash completion", "__start_dct"}},
		{[]string{"--gateway", srv.URL(), "__complete", "get", "r/c"}, []string{"r/c.html", ":4"}},
		{[]string{"--gateway", srv.URL(), "__complete", "list", "--output", ""}, []string{"text", "json", ":4"}},
	} {
		var stdout bytes.Buffer
		cmd := cli.NewCommand(&stdout, &stdout)
		cmd.SetOut(&stdout)
		cmd.SetArgs(c.args)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		step{stdout: c.want}.verify(t, stdout.String(), "", nil)
	}
	// Another organisation's publisher may not purge Org1's objects, by
	// key or softly by name (the gateway acts for Org1 only).
	for _, args := range [][]string{{"purge", "--surrogate-key", "site", "--reason", "r"}, {"purge", "r/c.html", "--soft", "--reason", "r"}} {
		if _, _, err := runAs(t, srv, srv.other, args...); err == nil || !strings.Contains(err.Error(), "403 PERMISSION_DENIED") {
			t.Errorf("%q as Org2's publisher: %v, want 403 PERMISSION_DENIED", args, err)
		}
	}
	// An auditor of Org1 is not a publisher.
	if _, _, err := runAs(t, srv, srv.auditor, "purge", "--surrogate-key", "site", "--reason", "r"); err == nil || !strings.Contains(err.Error(), "403 PERMISSION_DENIED") {
		t.Errorf("purge by key as an auditor: %v, want 403 PERMISSION_DENIED", err)
	}
}

// marketAdmin is an admin listener answering whoami, accounts, an auction
// with its reveals and contracts, and SLA scores; public serves the object
// list.
// auctionID is the fake admin listener's auction.
var auctionID = strings.Repeat("a1", 32)

func marketAdmin(t *testing.T) *httptest.Server {
	t.Helper()
	auction := records.Auction{ID: auctionID, Publisher: "Org1MSP", Status: records.AuctionCleared, StoragePerGBMonth: 3, DeliveryPerMiB: 2,
		Bids:   []records.SnapshotBid{{Node: "n1-org1", Org: "Org1MSP"}, {Node: "n2-org2", Org: "Org2MSP"}},
		Awards: []records.Award{{Shard: 0, Node: "n1-org1"}}, ClearedAt: "2026-11-29T00:00:00Z"}
	reveals := []records.Reveal{{Auction: auctionID, Terms: records.BidTerms{Node: "n1-org1", StoragePerGBMonth: 3, DeliveryPerMiB: 2, CapacityBytes: 100, BandwidthBps: 10}}}
	contracts := []records.Contract{{Auction: auctionID, Object: "obj", Shard: 0, Node: "n1-org1", Org: "Org1MSP", ShardSize: 10, StoragePerGBMonth: 3, DeliveryPerMiB: 2}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v any
		switch r.URL.Path {
		case "/v1/whoami":
			v = api.WhoamiResponse{MSPID: "Org1MSP", Subject: "User1", Roles: []records.Role{records.RolePublisher}}
		case "/v1/audit/accounts/Org1MSP":
			v = records.Account{MSPID: "Org1MSP", Balance: 900, Escrow: 100, Issued: 1000}
		case "/v1/audit/accounts/Org2MSP":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"PERMISSION_DENIED","message":"private to Org2MSP"}}`))
			return
		case "/v1/audit/auctions/" + auctionID:
			v = auction
		case "/v1/audit/auctions/" + auctionID + "/reveals":
			v = reveals
		case "/v1/audit/auctions/" + auctionID + "/contracts":
			v = contracts
		case "/v1/audit/sla/scores":
			v = []map[string]any{{"node": "n1-org1", "score": 9000}}
		case "/v1/objects":
			v = api.ListResponse{Objects: []*records.Object{{Name: "site/a", Owner: "Org1MSP", Latest: "1", Versions: []string{"1"}}}}
		case "/v1/objects/site/a":
			v = api.ObjectResponse{Object: &records.Object{Name: "site/a", Latest: "1"}, Versions: []*records.Manifest{{Name: "site/a", Version: "1", Keys: []string{"k"}}}}
		default:
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestMarketAndExportCommands: auctions, bids, contracts, balances and
// audit export against a fake admin listener.
func TestMarketAndExportCommands(t *testing.T) {
	srv := marketAdmin(t)
	dir := t.TempDir()
	steps := []step{
		{name: "auction", args: []string{"auctions", "show", auctionID}, stdout: []string{"auction", auctionID, "cleared", "price storage/GB-month", "3", "award shard 0", "n1-org1"}},
		{name: "bids", args: []string{"auctions", "bids", auctionID}, stdout: []string{"n1-org1", "yes", "3", "2", "100", "n2-org2", "no"}},
		{name: "bids as JSON", args: []string{"auctions", "bids", auctionID, "--output", "json"}, check: func(t *testing.T, out string) {
			var b struct {
				Sealed  []records.SnapshotBid `json:"sealed"`
				Reveals []records.Reveal      `json:"reveals"`
			}
			if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Sealed) != 2 || len(b.Reveals) != 1 {
				t.Fatalf("bids --output json: %v %s", err, out)
			}
		}},
		{name: "contracts", args: []string{"auctions", "contracts", auctionID}, stdout: []string{"SHARD", "0", "n1-org1", "obj", "10"}},
		{name: "malformed auction id", args: []string{"auctions", "show", "../x"}, wantErr: "auction id must be 64 lowercase hex"},
		{name: "unknown auction", args: []string{"auctions", "show", strings.Repeat("b2", 32)}, wantErr: "404"},
		{name: "own balance", args: []string{"balances"}, stdout: []string{"ORG", "Org1MSP", "900", "100", "1000"}},
		{name: "balances as JSON", args: []string{"balances", "Org1MSP", "--output", "json"}, check: func(t *testing.T, out string) {
			var a []records.Account
			if err := json.Unmarshal([]byte(out), &a); err != nil || len(a) != 1 || a[0].Balance != 900 {
				t.Fatalf("balances --output json: %v %s", err, out)
			}
		}},
		{name: "another org's balance is refused", args: []string{"balances", "Org2MSP"}, wantErr: "PERMISSION_DENIED"},
		{name: "audit export", args: []string{"audit", "export", dir}, stdout: []string{"exported 1 objects"}, check: func(t *testing.T, _ string) {
			var idx struct {
				Files []string `json:"files"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "index.json"))
			if err != nil || json.Unmarshal(b, &idx) != nil || len(idx.Files) != 5 {
				t.Fatalf("index: %v %s", err, b)
			}
			obj, err := os.ReadFile(filepath.Join(dir, "objects", "00000-site_a.json"))
			if err != nil || !strings.Contains(string(obj), `"keys"`) {
				t.Fatalf("object file: %v %s", err, obj)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			stdout, err := runDCT(append(s.args, "--admin", srv.URL, "--gateway", srv.URL)...)
			s.verify(t, stdout, "", err)
		})
	}
}
