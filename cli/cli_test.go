package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/cli"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
)

// gateway serves the HTTP API over the in-memory ledger and agents.
func gateway(t *testing.T) *httptest.Server {
	t.Helper()
	l := contenttest.NewLedger("Org1MSP", 6)
	cfg := content.DefaultConfig()
	cfg.MasterKeys = [][]byte{bytes.Repeat([]byte{5}, 32)}
	cfg.ManifestTTL = 0
	svc, err := content.New(cfg, l, contenttest.NewAgents(l, 1<<30), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(svc, httpapi.Config{RequestTimeout: 10 * time.Second, PublishTimeout: 10 * time.Second,
		AllowOrigin: "*"}, nil, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

// run runs the dct command line against url.
func run(t *testing.T, url string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	cmd.SetArgs(append(args, "--gateway", url))
	cmd.SetOut(&stderr)
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

func TestCommands(t *testing.T) {
	srv := gateway(t)
	dir := t.TempDir()
	files := map[string]string{"index.html": "<html></html>", "js/app.js": "console.log(1)", "css/site.css": "body{}"}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "out.js")
	tests := []struct {
		name    string
		args    []string
		wantErr string
		stdout  []string // substrings, in order
		check   func(t *testing.T, stdout string)
	}{
		{"publish a directory with a prefix", []string{"publish", "-q", "--prefix", "site/", dir}, "",
			[]string{"NAME", "site/css/site.css", "site/index.html", "site/js/app.js", "/cdn/site/js/app.js@1"}, nil},
		{"publish a file", []string{"publish", "-q", filepath.Join(dir, "js", "app.js")}, "", []string{"app.js", "1"}, nil},
		{"republish a file with a prefix", []string{"publish", "--quiet", "--prefix", "site/js/", filepath.Join(dir, "js", "app.js")}, "",
			[]string{"site/js/app.js", "2"}, nil},
		{"list", []string{"list"}, "", []string{"NAME", "LATEST", "app.js", "site/css/site.css", "site/index.html", "site/js/app.js     2       2"}, nil},
		{"show", []string{"show", "site/js/app.js"}, "", nil, func(t *testing.T, stdout string) {
			var o api.ObjectResponse
			if err := json.Unmarshal([]byte(stdout), &o); err != nil || o.Object.Latest != "2" || len(o.Versions) != 2 {
				t.Fatalf("show: %v %s", err, stdout)
			}
		}},
		{"show a version", []string{"show", "site/js/app.js", "--version", "1"}, "", nil, func(t *testing.T, stdout string) {
			var m records.Manifest
			if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Version != "1" || m.Size != int64(len(files["js/app.js"])) {
				t.Fatalf("show --version: %v %s", err, stdout)
			}
		}},
		{"get", []string{"get", "site/index.html"}, "", nil, func(t *testing.T, stdout string) {
			if stdout != files["index.html"] {
				t.Fatalf("get: %q", stdout)
			}
		}},
		{"get a version to a file", []string{"get", "site/js/app.js@1", "-o", out}, "", nil, func(t *testing.T, _ string) {
			if b, err := os.ReadFile(out); err != nil || string(b) != files["js/app.js"] {
				t.Fatalf("get -o: %q %v", b, err)
			}
		}},
		{"get an unknown object", []string{"get", "site/none.js"}, "404 NOT_FOUND", nil, nil},
		{"purge", []string{"purge", "site/js/app.js", "--version", "1", "--reason", "old"}, "",
			[]string{"purged site/js/app.js@1", "6 shard copies deleted"}, nil},
		{"purge twice", []string{"purge", "site/js/app.js", "--version", "1", "--reason", "again"}, "409 CONFLICT", nil, nil},
		{"purge the latest", []string{"purge", "site/css/site.css", "--reason", "gone"}, "", []string{"purged site/css/site.css@1"}, nil},
		{"purge without a reason", []string{"purge", "site/index.html"}, "reason", nil, nil},
		{"get a purged version", []string{"get", "site/js/app.js@1"}, "410 PURGED", nil, nil},
		{"publish a missing path", []string{"publish", filepath.Join(dir, "none")}, "no such file", nil, nil},
		{"publish the demo portal", []string{"publish-demo-portal", "--prefix", "demo/"}, "",
			[]string{"ASSET", "demo/portal.css", "demo/index.html", "portal page (immutable): " + srv.URL + "/cdn/demo/index.html@1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := run(t, srv.URL, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %q (stderr %s)", err, tt.wantErr, stderr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v (stderr %s)", err, stderr)
			}
			rest := stdout
			for _, want := range tt.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q after the previous lines:\n%s", want, stdout)
				}
				rest = rest[i+len(want):]
			}
			if tt.check != nil {
				tt.check(t, stdout)
			}
		})
	}
}

// TestPublishReportsFailures: files that fail are named and the command
// fails, the others are published.
func TestPublishReportsFailures(t *testing.T) {
	srv := gateway(t)
	dir := t.TempDir()
	for name, text := range map[string]string{"ok.css": "a{}", "bad name.css": "b{}"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, err := run(t, srv.URL, "publish", "-q", dir)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 files failed") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(stderr, "bad name.css") || !strings.Contains(stderr, api.CodeInvalid) || !strings.Contains(stdout, "ok.css") {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
}

func TestGatewayFromEnvironment(t *testing.T) {
	srv := gateway(t)
	t.Setenv("DCT_GATEWAY", srv.URL)
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	cmd.SetArgs([]string{"list"})
	if err := cmd.ExecuteContext(context.Background()); err != nil || !strings.Contains(stdout.String(), "NAME") {
		t.Fatalf("list via DCT_GATEWAY: %v %q", err, stdout.String())
	}
}
