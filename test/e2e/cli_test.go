//go:build integration

package e2e

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
