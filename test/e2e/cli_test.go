//go:build integration

package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/cli"
	testnetwork "github.com/dct-network/dct/test-network"
)

// runCLI runs the dct command line against the test gateway as Org1's
// publisher, with the flags dct-network client-flags prints.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runCLIAs(t, testnetwork.RolePublisher, args...)
}

// runCLIAs runs the dct command line as Org1's identity with role.
func runCLIAs(t *testing.T, role string, args ...string) (string, string, error) {
	t.Helper()
	flags, err := env.ClientFlags(env.Gateways[0].Name, role)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	cmd.SetArgs(append(flags, args...))
	err = cmd.ExecuteContext(ctxT(t, 5*time.Minute))
	return stdout.String(), stderr.String(), err
}

// TestCLI publishes a directory with the operator CLI, lists, shows, gets
// and purges, and serves the result over the CDN path.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"index.html":     []byte("<!doctype html><title>x</title>"),
		"css/site.css":   []byte("body{margin:0}"),
		"js/vendor.js":   payload(150_000, 21),
		"data/feed.json": []byte(`{"quotes":[]}`),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, progress, err := runCLI(t, "publish", "--prefix", "cli/", dir)
	if err != nil {
		t.Fatalf("publish: %v\n%s%s", err, out, progress)
	}
	if !strings.Contains(progress, "publishing 4 files") {
		t.Fatalf("no progress shown: %q", progress)
	}
	for name, b := range files {
		if !strings.Contains(out, "cli/"+name) || !strings.Contains(out, sri(b)) {
			t.Fatalf("publish output lacks %s or its integrity:\n%s", name, out)
		}
		resp, got := do(t, http.MethodGet, "/cdn/cli/"+name, nil)
		if resp.StatusCode != 200 || !bytes.Equal(got, b) {
			t.Fatalf("GET cli/%s: %s", name, resp.Status)
		}
	}
	if out, _, err = runCLI(t, "list"); err != nil || !strings.Contains(out, "cli/js/vendor.js") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "show", "cli/css/site.css", "--version", "1"); err != nil || !strings.Contains(out, `"integrity": "`+sri(files["css/site.css"])) {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "get", "cli/data/feed.json"); err != nil || out != string(files["data/feed.json"]) {
		t.Fatalf("get: %v %q", err, out)
	}
	if out, _, err = runCLI(t, "purge", "cli/index.html", "--reason", "retired"); err != nil || !strings.Contains(out, "purged cli/index.html@1") {
		t.Fatalf("purge: %v\n%s", err, out)
	}
	if _, _, err = runCLI(t, "get", "cli/no/such"); err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Fatalf("get of a missing object: %v", err)
	}
	if _, _, err = runCLIAs(t, testnetwork.RoleAuditor, "purge", "cli/css/site.css", "--reason", "not mine"); err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
		t.Fatalf("purge by the auditor: %v", err)
	}
	if out, _, err = runCLI(t, "whoami"); err != nil || !strings.Contains(out, "roles: [publisher]") {
		t.Fatalf("whoami: %v\n%s", err, out)
	}
	if _, _, err = runCLI(t, "publish", filepath.Join(dir, "missing")); err == nil {
		t.Fatal("publishing a missing path succeeded")
	}
	// Surrogate keys, purges by key, verify and the JSON output.
	if out, _, err = runCLI(t, "publish", "-q", "--prefix", "cli/tagged/", "--surrogate-key", "cli-release,cli-site", filepath.Join(dir, "css")); err != nil {
		t.Fatalf("publish --surrogate-key: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "verify", "cli/tagged/site.css"); err != nil || !strings.HasPrefix(out, "OK cli/tagged/site.css@1") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "list", "--output", "json"); err != nil || !strings.Contains(out, `"name": "cli/tagged/site.css"`) {
		t.Fatalf("list --output json: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "purge", "--surrogate-key", "cli-site", "--soft", "--reason", "refresh"); err != nil || !strings.Contains(out, "soft purge of 1 versions") {
		t.Fatalf("purge --surrogate-key --soft: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "get", "cli/tagged/site.css"); err != nil || out != string(files["css/site.css"]) {
		t.Fatalf("get after a soft purge: %v %q", err, out)
	}
	if out, _, err = runCLI(t, "purge", "--surrogate-key", "cli-release", "--reason", "recall"); err != nil || !strings.Contains(out, "hard purge of 1 versions") {
		t.Fatalf("purge --surrogate-key: %v\n%s", err, out)
	}
	if _, _, err = runCLI(t, "get", "cli/tagged/site.css@1"); err == nil || !strings.Contains(err.Error(), "410 PURGED") {
		t.Fatalf("get after a hard purge: %v", err)
	}
	if _, _, err = runCLIAs(t, testnetwork.RoleAuditor, "purge", "--surrogate-key", "cli-site", "--reason", "not mine"); err == nil || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
		t.Fatalf("purge by key by the auditor: %v", err)
	}
	if out, _, err = runCLI(t, "mesh"); err != nil || !strings.Contains(out, "shard reads") {
		t.Fatalf("mesh: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, "nodes", "list"); err != nil || !strings.Contains(out, "active") {
		t.Fatalf("nodes list: %v\n%s", err, out)
	}
}

// TestCLINodesAdmin registers, deactivates and reactivates a node with the
// operator CLI, signed by the organisation's admin against the test
// network's peer; the gateway's registry view follows. Refusals: a
// publisher (not an admin), a node id outside the organisation's
// namespace, a malformed location, a key file that is no key.
func TestCLINodesAdmin(t *testing.T) {
	org, err := env.Org(env.Gateways[0].Org)
	if err != nil {
		t.Fatal(err)
	}
	asAdmin := []string{"--network-dir", env.RunDir, "--org", org.MSPID, "--msp-dir", org.AdminMSPDir}
	key := filepath.Join(t.TempDir(), "node-key.pem")
	if err := os.WriteFile(key, testNodeKeyPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	id := "cliadmin-" + records.OrgSlug(org.MSPID)
	register := func(role string, extra ...string) (string, string, error) {
		args := []string{"nodes", "register", "--id", id, "--endpoint", "127.0.0.1:1", "--zone", "cli-zone",
			"--latitude", "48.85", "--longitude", "2.35", "--storage-bytes", "1048576", "--bandwidth-bps", "1000000",
			"--public-key", key}
		args = append(args, extra...)
		if role == "admin" {
			return runCLI(t, append(args, asAdmin...)...)
		}
		return runCLIAs(t, role, append(args, "--network-dir", env.RunDir, "--org", org.MSPID)...)
	}
	var listed func() *records.Node
	// listed is the node as the gateway lists it; the gateway learns the
	// registry's changes from ledger events, so wait polls until want
	// holds (or fails the test after a minute).
	wait := func(what string, want func(*records.Node) bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			n := listed()
			if want(n) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the gateway still lists %+v", what, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	listed = func() *records.Node {
		t.Helper()
		out, _, err := runCLI(t, "nodes", "list", "--output", "json")
		if err != nil {
			t.Fatalf("nodes list: %v", err)
		}
		var nodes []*records.Node
		if err := json.Unmarshal([]byte(out), &nodes); err != nil {
			t.Fatalf("nodes list --output json: %v\n%s", err, out)
		}
		for _, n := range nodes {
			if n.ID == id {
				return n
			}
		}
		return nil
	}

	refusals := []struct {
		name, role string
		extra      []string
		want       string
	}{
		{"publisher is no admin", testnetwork.RolePublisher, nil, "needs the role admin or node"},
		{"latitude out of range", "admin", []string{"--latitude", "123"}, "latitude must be in -90..90"},
		{"id outside the namespace", "admin", []string{"--id", "cliadmin-someoneelse"}, "outside the namespace"},
		{"key file is no key", "admin", []string{"--public-key", filepath.Join(org.AdminMSPDir, "config.yaml")}, "node public key"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := register(tt.role, tt.extra...)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Fatalf("register: err %v, want one containing %q", err, tt.want)
			}
		})
	}

	out, _, err := register("admin", "--output", "json")
	if err != nil {
		t.Fatalf("register as admin: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_, _, _ = runCLI(t, append([]string{"nodes", "deactivate", id, "--reason", "test over"}, asAdmin...)...)
	})
	wait("after register", func(n *records.Node) bool {
		return n != nil && n.Status == records.NodeStatusActive && n.Org == org.MSPID && n.Zone == "cli-zone"
	})
	// The refused registrations left nothing: the admin's registration of
	// the same id succeeded (no conflict), and the gateway, which now
	// shows it, shows no node of the id outside the namespace.
	if out, _, err := runCLI(t, "nodes", "list"); err != nil || strings.Contains(out, "cliadmin-someoneelse") {
		t.Fatalf("nodes list: %v\n%s", err, out)
	}
	if _, _, err := register("admin"); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("second register: err %v, want already registered", err)
	}
	if _, _, err := runCLIAs(t, testnetwork.RolePublisher, "nodes", "deactivate", id, "--network-dir", env.RunDir); err == nil {
		t.Fatal("a publisher deactivated a node")
	}
	if out, _, err = runCLI(t, append([]string{"nodes", "deactivate", id, "--reason", "branch closed"}, asAdmin...)...); err != nil {
		t.Fatalf("deactivate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "inactive (branch closed)") {
		t.Fatalf("deactivate printed %q", out)
	}
	wait("after deactivate", func(n *records.Node) bool {
		return n != nil && n.Status == records.NodeStatusInactive && n.DeactivationReason == "branch closed"
	})
	if out, _, err = runCLI(t, append([]string{"nodes", "reactivate", id}, asAdmin...)...); err != nil || !strings.Contains(out, "active") {
		t.Fatalf("reactivate: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, append([]string{"nodes", "deactivate", id, "--reason", "test over"}, asAdmin...)...); err != nil {
		t.Fatalf("deactivate: %v\n%s", err, out)
	}
}

// testNodeKeyPEM is a fresh ECDSA P-256 key in PKCS #8 PEM, as an edge
// agent keeps its node key.
func testNodeKeyPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
