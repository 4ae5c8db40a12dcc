package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
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
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/memberauth/memberauthtest"
)

// testGateway is an in-process gateway over the in-memory ledger and
// agents: its public listener and its admin listener (HTTPS, member
// certificates of Org1MSP and Org2MSP), with the identities' MSP
// directories and the admin listener's CA on disk.
type testGateway struct {
	srv, admin *httptest.Server
	// publisher, auditor: Org1's; other: Org2's publisher.
	publisher, auditor, other string
	cacert                    string
}

// URL is the public listener's URL.
func (g *testGateway) URL() string { return g.srv.URL }

// flags are the admin flags of the identity whose MSP directory is msp.
func (g *testGateway) flags(msp string) []string {
	return []string{"--admin", g.admin.URL, "--msp-dir", msp, "--cacert", g.cacert}
}

func gateway(t *testing.T) *testGateway {
	t.Helper()
	l := contenttest.NewLedger("Org1MSP", 6)
	cfg := content.DefaultConfig()
	cfg.MasterKeys = [][]byte{bytes.Repeat([]byte{5}, 32)}
	cfg.ManifestTTL = 0
	svc, err := content.New(cfg, l, contenttest.NewAgents(l, 1<<30), nil)
	if err != nil {
		t.Fatal(err)
	}
	hcfg := httpapi.Config{RequestTimeout: 10 * time.Second, PublishTimeout: 10 * time.Second, AllowOrigin: "*"}
	g := &testGateway{srv: httptest.NewServer(httpapi.New(svc, hcfg, nil, slog.New(slog.DiscardHandler)))}
	t.Cleanup(g.srv.Close)

	org1, org2 := memberauthtest.NewCA(t, "org1"), memberauthtest.NewCA(t, "org2")
	v, err := memberauth.NewVerifier(map[string][]*x509.Certificate{"Org1MSP": {org1.Cert}, "Org2MSP": {org2.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	roles := roleMap{}
	id := func(ca *memberauthtest.CA, msp, name string, role records.Role) string {
		c := ca.Issue(t, name)
		roles[msp+"/"+records.CertHash(c.Leaf)] = []records.Role{role}
		return ca.WriteMSP(t, filepath.Join(dir, name), c)
	}
	g.publisher = id(org1, "Org1MSP", "User1@org1", records.RolePublisher)
	g.auditor = id(org1, "Org1MSP", "User3@org1", records.RoleAuditor)
	g.other = id(org2, "Org2MSP", "User1@org2", records.RolePublisher)
	g.admin = httptest.NewUnstartedServer(httpapi.NewAdmin(svc, httpapi.AdminConfig{Config: hcfg, MSPID: "Org1MSP",
		Auth: memberauth.New(v, roles)}, slog.New(slog.DiscardHandler)))
	g.admin.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: v.ClientCAs()}
	g.admin.StartTLS()
	t.Cleanup(g.admin.Close)
	g.cacert = filepath.Join(dir, "gateway-ca.pem")
	if err := os.WriteFile(g.cacert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.admin.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return g
}

// roleMap is an in-memory registry: "msp/certHash" → roles.
type roleMap map[string][]records.Role

func (r roleMap) Roles(_ context.Context, msp, hash string) ([]records.Role, error) {
	return r[msp+"/"+hash], nil
}

// run runs the dct command line against the gateway as its Org1 publisher.
func run(t *testing.T, g *testGateway, args ...string) (string, string, error) {
	t.Helper()
	return runAs(t, g, g.publisher, args...)
}

// runAs runs the dct command line against the gateway as the identity of
// an MSP directory ("" = no admin flags).
func runAs(t *testing.T, g *testGateway, msp string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	args = append(args, "--gateway", g.URL())
	if msp != "" {
		args = append(args, g.flags(msp)...)
	}
	cmd.SetArgs(args)
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
			[]string{"ASSET", "demo/portal.css", "feeds/demo/quotes.json", "demo/index.html", "portal page (immutable): " + srv.URL() + "/cdn/demo/index.html@1"}, nil},
		{"the portal polls its feed's latest URL", []string{"get", "demo/index.html"}, "", []string{`"data-feed": "/cdn/feeds/demo/quotes.json"`, `L.poll("/cdn/feeds/demo/quotes.json"`}, nil},
		{"publish a feed", []string{"feed", "publish", "feeds/demo/quotes.json", "--every", "5ms", "--count", "3", "--size", "1024"}, "",
			[]string{"feeds/demo/quotes.json@2\t1024 bytes", "feeds/demo/quotes.json@3\t1024 bytes", "feeds/demo/quotes.json@4\t1024 bytes"}, func(t *testing.T, _ string) {
				stdout, _, err := run(t, srv, "get", "feeds/demo/quotes.json")
				var q struct {
					Seq    int `json:"seq"`
					Quotes []struct {
						Symbol string `json:"symbol"`
					} `json:"quotes"`
				}
				if err != nil || json.Unmarshal([]byte(stdout), &q) != nil || q.Seq != 3 || len(q.Quotes) != 4 || len(stdout) != 1024 {
					t.Fatalf("feed document: %v %d bytes %s", err, len(stdout), stdout)
				}
			}},
		{"publish a feed without an interval", []string{"feed", "publish", "feeds/x.json", "--every", "0s", "--count", "1"}, "interval must be positive", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := run(t, srv, tt.args...)
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
	stdout, stderr, err := run(t, srv, "publish", "-q", dir)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 files failed") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(stderr, "bad name.css") || !strings.Contains(stderr, api.CodeInvalid) || !strings.Contains(stdout, "ok.css") {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
}

func TestGatewayFromEnvironment(t *testing.T) {
	srv := gateway(t)
	t.Setenv("DCT_GATEWAY", srv.URL())
	var stdout, stderr bytes.Buffer
	cmd := cli.NewCommand(&stdout, &stderr)
	cmd.SetArgs([]string{"list"})
	if err := cmd.ExecuteContext(context.Background()); err != nil || !strings.Contains(stdout.String(), "NAME") {
		t.Fatalf("list via DCT_GATEWAY: %v %q", err, stdout.String())
	}
}

// TestAdminIdentity: writes need the admin listener and a publisher of the
// gateway's organisation; the identity may come from the environment.
func TestAdminIdentity(t *testing.T) {
	g := gateway(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "a.css")
	if err := os.WriteFile(file, []byte("a{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		msp     string
		args    []string
		wantErr string
		stdout  string
	}{
		{"no admin flags", "", []string{"publish", "-q", file}, "--admin is not set", ""},
		{"auditor publishes", g.auditor, []string{"publish", "-q", file}, "403 PERMISSION_DENIED", ""},
		{"other org's publisher", g.other, []string{"publish", "-q", file}, "this gateway acts for Org1MSP", ""},
		{"publisher", g.publisher, []string{"publish", "-q", file}, "", "a.css"},
		{"auditor purges", g.auditor, []string{"purge", "a.css", "--reason", "x"}, "403 PERMISSION_DENIED", ""},
		{"whoami", g.auditor, []string{"whoami"}, "", "User3@org1,OU=client of Org1MSP"},
		{"missing MSP dir", filepath.Join(dir, "none"), []string{"whoami"}, "MSP directory", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runAs(t, g, tt.msp, tt.args...)
			if tt.wantErr != "" {
				// publish names each failed file on stderr.
				if err == nil || !strings.Contains(err.Error()+stderr, tt.wantErr) {
					t.Fatalf("error %v (stderr %s), want one naming %q", err, stderr, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(stdout, tt.stdout) {
				t.Fatalf("%v, stdout %q", err, stdout)
			}
		})
	}
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("DCT_ADMIN", g.admin.URL)
		t.Setenv("DCT_ADMIN_MSP_DIR", g.publisher)
		t.Setenv("DCT_ADMIN_CACERT", g.cacert)
		var stdout, stderr bytes.Buffer
		cmd := cli.NewCommand(&stdout, &stderr)
		cmd.SetArgs([]string{"whoami"})
		if err := cmd.ExecuteContext(context.Background()); err != nil || !strings.Contains(stdout.String(), "roles: [publisher]") {
			t.Fatalf("whoami via DCT_ADMIN*: %v %q", err, stdout.String())
		}
	})
}
