package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/metrics"
)

type fixture struct {
	srv    *httptest.Server
	admin  *adminServer
	svc    *content.Service
	ledger *contenttest.Ledger
	agents *contenttest.Agents
	ready  error
	log    *lockedBuffer
}

func serviceConfig() content.Config {
	cfg := content.DefaultConfig()
	cfg.MasterKeys = [][]byte{bytes.Repeat([]byte{3}, 32)}
	cfg.ManifestTTL = 0
	cfg.ChunkSize, cfg.MaxUnit, cfg.SegmentBytes = 1024, 4096, 8000
	cfg.CacheMaxObject = 10_000
	cfg.MaxObjectBytes = 1 << 20
	return cfg
}

// newFixture serves httpapi over a content.Service on the in-memory
// ledger and agents.
func newFixture(t testing.TB) *fixture { return newFixtureWith(t, fixtureOptions{}) }

// fixtureOptions change the service's, the handler's and the server's
// settings from newFixture's.
type fixtureOptions struct {
	service func(*content.Config)
	api     func(*httpapi.Config)
	server  func(*http.Server)
	// metrics, when set, instruments the service and both listeners.
	metrics *metrics.Gateway
}

func newFixtureWith(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{ledger: contenttest.NewLedger("Org1MSP", 6), log: &lockedBuffer{}}
	f.agents = contenttest.NewAgents(f.ledger, 1<<30)
	scfg := serviceConfig()
	if o.service != nil {
		o.service(&scfg)
	}
	var copts []content.Option
	if o.metrics != nil {
		copts = append(copts, content.WithMetrics(o.metrics))
	}
	svc, err := content.New(scfg, f.ledger, f.agents, nil, copts...)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	acfg := httpapi.Config{
		AllowOrigin: "*", RequestTimeout: 10 * time.Second, PublishTimeout: 10 * time.Second,
		LatestMaxAge: time.Minute, Metrics: o.metrics,
	}
	if o.api != nil {
		o.api(&acfg)
	}
	h := httpapi.New(svc, acfg, func(context.Context) error { return f.ready }, slog.New(slog.NewTextHandler(f.log, nil)))
	f.srv = httptest.NewUnstartedServer(h)
	if o.server != nil {
		o.server(f.srv.Config)
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	f.admin = newAdminServer(t, svc, 0, 0, func(c *httpapi.AdminConfig) { c.Metrics = o.metrics })
	return f
}

// lockedBuffer is the gateway's log, written by handlers and read by tests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func payload(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) code(t *testing.T) string {
	t.Helper()
	var e api.ErrorBody
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	if e.Error.Message == "" {
		t.Fatalf("error body %q has no message", a.body)
	}
	return e.Error.Code
}

func (f *fixture) do(t *testing.T, method, path string, body []byte, hdr map[string]string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	// Writes go to the admin listener as Org1's publisher.
	base, hc := f.srv.URL, f.srv.Client()
	if method == http.MethodPut || method == http.MethodDelete {
		base, hc = f.admin.srv.URL, f.admin.client(f.admin.publisher1)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (f *fixture) publish(t *testing.T, name string, body []byte) api.PublishResponse {
	t.Helper()
	a := f.do(t, http.MethodPut, "/v1/objects/"+name, body, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("publish %s: %d %s", name, a.status, a.body)
	}
	var p api.PublishResponse
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublish(t *testing.T) {
	f := newFixture(t)
	body := payload(5000)
	a := f.do(t, http.MethodPut, "/v1/objects/site/app.js", body, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("publish: %d %s", a.status, a.body)
	}
	var p api.PublishResponse
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	switch {
	case p.Name != "site/app.js" || p.Version != "1" || p.Size != 5000:
		t.Fatalf("answer %+v", p)
	case p.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasPrefix(p.Integrity, "sha384-"):
		t.Fatalf("hashes %s %s", p.SHA256, p.Integrity)
	case p.K != 4 || p.M != 2 || len(p.Placement) != 6 || p.StripeUnit <= 0:
		t.Fatalf("layout k=%d m=%d stripeUnit=%d placement=%v", p.K, p.M, p.StripeUnit, p.Placement)
	case p.ContentType != "text/javascript; charset=utf-8" || p.TxID == "" || p.CreatedAt == "":
		t.Fatalf("record %+v", p)
	case p.URL != "/cdn/site/app.js" || p.VersionedURL != "/cdn/site/app.js@1" || a.header.Get("Location") != p.VersionedURL:
		t.Fatalf("urls %s %s %s", p.URL, p.VersionedURL, a.header.Get("Location"))
	}
	var raw map[string]any
	_ = json.Unmarshal(a.body, &raw)
	if _, ok := raw["stripeUnit"]; !ok {
		t.Fatalf("no stripeUnit in %s", a.body)
	}
	if p2 := f.publish(t, "site/app.js", payload(10)); p2.Version != "2" {
		t.Fatalf("second publish is version %s", p2.Version)
	}
}

func TestPublishErrors(t *testing.T) {
	f := newFixture(t)
	org2, err := content.New(serviceConfig(), f.ledger.AsMSP("Org2MSP"), f.agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org2.Publish(context.Background(), "theirs.css", "", 3, strings.NewReader("abc")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		body   []byte
		setup  func()
		status int
		code   string
	}{
		{"bad name", "/v1/objects/bad%20name", []byte("x"), nil, 400, api.CodeInvalid},
		{"too large", "/v1/objects/big.bin", payload(1<<20 + 1), nil, 413, api.CodeTooLarge},
		{"another organisation's name", "/v1/objects/theirs.css", []byte("x"), nil, 403, api.CodeForbidden},
		{"agents failing uploads", "/v1/objects/fail.js", payload(3000), func() {
			for _, a := range f.agents.All() {
				a.SetFailPuts(true)
			}
		}, 502, api.CodeUploadFailed},
		{"no agent usable", "/v1/objects/nowhere.js", payload(3000), func() {
			for _, a := range f.agents.All() {
				a.SetFailPuts(false)
				a.SetDown(true)
			}
		}, 503, api.CodeNoPlacement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			a := f.do(t, http.MethodPut, tt.path, tt.body, nil)
			if a.status != tt.status || a.code(t) != tt.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
		})
	}
}

// TestPublishLengthRequired: a publish must declare its size.
func TestPublishLengthRequired(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodPut, f.admin.srv.URL+"/v1/objects/a.js", io.MultiReader(strings.NewReader("abc")))
	req.ContentLength = -1
	resp, err := f.admin.client(f.admin.publisher1).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: b}
	if a.status != http.StatusLengthRequired || a.code(t) != api.CodeLengthRequired {
		t.Fatalf("got %d %s", a.status, b)
	}
}

func TestServe(t *testing.T) {
	f := newFixture(t)
	small, large := payload(3000), payload(30_000) // large streams (> CacheMaxObject)
	f.publish(t, "s/small.css", small)
	f.publish(t, "s/large.json", large)
	p2 := f.publish(t, "s/small.css", []byte("body{}"))
	etag := `"` + p2.SHA256 + `"`
	tests := []struct {
		name    string
		method  string
		path    string
		hdr     map[string]string
		status  int
		body    []byte
		headers map[string]string
	}{
		{"latest", "GET", "/cdn/s/small.css", nil, 200, []byte("body{}"), map[string]string{
			"ETag": etag, "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=60",
			"X-DCT-Version": "2", "Access-Control-Allow-Origin": "*", "Accept-Ranges": "bytes"}},
		{"versioned", "GET", "/cdn/s/small.css@1", nil, 200, small, map[string]string{
			"Cache-Control": "public, max-age=31536000, immutable", "X-DCT-Version": "1", "Content-Length": "3000"}},
		{"streamed", "GET", "/cdn/s/large.json@1", nil, 200, large, map[string]string{"Content-Length": "30000"}},
		{"HEAD", "HEAD", "/cdn/s/small.css@1", nil, 200, []byte{}, map[string]string{"Content-Length": "3000", "ETag": ""}},
		{"not modified", "GET", "/cdn/s/small.css", map[string]string{"If-None-Match": etag}, 304, []byte{}, map[string]string{"ETag": etag}},
		{"weak match", "GET", "/cdn/s/small.css", map[string]string{"If-None-Match": "W/" + etag}, 304, []byte{}, nil},
		{"modified", "GET", "/cdn/s/small.css", map[string]string{"If-None-Match": `"other"`}, 200, []byte("body{}"), nil},
		{"range", "GET", "/cdn/s/small.css@1", map[string]string{"Range": "bytes=100-199"}, 206, small[100:200], map[string]string{
			"Content-Range": "bytes 100-199/3000", "Content-Length": "100"}},
		{"suffix range of a streamed object", "GET", "/cdn/s/large.json@1", map[string]string{"Range": "bytes=-500"}, 206, large[29_500:], map[string]string{
			"Content-Range": "bytes 29500-29999/30000"}},
		{"stale If-Range", "GET", "/cdn/s/small.css@1", map[string]string{"Range": "bytes=0-9", "If-Range": `"stale"`}, 200, small, nil},
		{"several ranges served whole", "GET", "/cdn/s/small.css@1", map[string]string{"Range": "bytes=0-1,5-6"}, 200, small, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(t, tt.method, tt.path, nil, tt.hdr)
			if a.status != tt.status || !bytes.Equal(a.body, tt.body) {
				t.Fatalf("got %d with %d bytes, want %d with %d", a.status, len(a.body), tt.status, len(tt.body))
			}
			for k, v := range tt.headers {
				if got := a.header.Get(k); got != v && !(v == "" && got != "") {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestServeErrors(t *testing.T) {
	f := newFixture(t)
	p := f.publish(t, "e/app.js", payload(3000))
	f.publish(t, "e/gone.js", payload(2000))
	if a := f.do(t, "DELETE", "/v1/objects/e/gone.js?reason=test", nil, nil); a.status != 200 {
		t.Fatalf("purge: %d %s", a.status, a.body)
	}
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		setup  func()
		status int
		code   string
	}{
		{"unknown object", "GET", "/cdn/e/none.js", nil, nil, 404, api.CodeNotFound},
		{"unknown version", "GET", "/cdn/e/app.js@9", nil, nil, 404, api.CodeNotFound},
		{"bad version", "GET", "/cdn/e/app.js@x y", nil, nil, 404, api.CodeNotFound},
		{"unknown endpoint", "GET", "/nowhere", nil, nil, 404, api.CodeNotFound},
		{"purged version", "GET", "/cdn/e/gone.js@1", nil, nil, 410, api.CodePurged},
		{"range outside", "GET", "/cdn/e/app.js@1", map[string]string{"Range": "bytes=5000-"}, nil, 416, api.CodeRangeNotSatisfied},
		{"POST on the CDN", "POST", "/cdn/e/app.js", nil, nil, 405, api.CodeMethodNotAllowed},
		{"PATCH an object", "PATCH", "/v1/objects/e/app.js", nil, nil, 405, api.CodeMethodNotAllowed},
		{"too few shards", "GET", "/cdn/e/app.js@1", map[string]string{"Range": "bytes=0-9"}, func() {
			for _, id := range p.Placement[:3] {
				f.agents.Get(id[0]).SetDown(true)
			}
		}, 503, api.CodeShardsUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			a := f.do(t, tt.method, tt.path, nil, tt.hdr)
			if a.status != tt.status || a.code(t) != tt.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("error Content-Type %q", ct)
			}
		})
	}
	// HEAD errors carry the status only.
	if a := f.do(t, "HEAD", "/cdn/e/none.js", nil, nil); a.status != 404 || len(a.body) != 0 {
		t.Fatalf("HEAD of an unknown object: %d %q", a.status, a.body)
	}
}

func TestMetadata(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "m/a.js", payload(100))
	f.publish(t, "m/a.js", payload(200))
	f.publish(t, "m/b.css", payload(300))
	a := f.do(t, "GET", "/v1/objects", nil, nil)
	var list api.ListResponse
	if a.status != 200 || json.Unmarshal(a.body, &list) != nil || len(list.Objects) != 2 || list.Objects[0].Name != "m/a.js" {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	a = f.do(t, "GET", "/v1/objects/m/a.js", nil, nil)
	var obj api.ObjectResponse
	if a.status != 200 || json.Unmarshal(a.body, &obj) != nil {
		t.Fatalf("object: %d %s", a.status, a.body)
	}
	if obj.Object.Latest != "2" || obj.Object.Owner != "Org1MSP" || len(obj.Versions) != 2 || obj.Versions[1].Size != 200 {
		t.Fatalf("object %+v versions %d", obj.Object, len(obj.Versions))
	}
	a = f.do(t, "GET", "/v1/objects/m/a.js?version=1", nil, nil)
	var m records.Manifest
	if a.status != 200 || json.Unmarshal(a.body, &m) != nil || m.Version != "1" || m.Size != 100 {
		t.Fatalf("manifest: %d %s", a.status, a.body)
	}
	if a := f.do(t, "GET", "/v1/objects/m/none.js", nil, nil); a.status != 404 || a.code(t) != api.CodeNotFound {
		t.Fatalf("unknown object: %d %s", a.status, a.body)
	}
	// A purged version's manifest is still shown, with its tombstone.
	f.do(t, "DELETE", "/v1/objects/m/a.js?version=1&reason=old", nil, nil)
	a = f.do(t, "GET", "/v1/objects/m/a.js?version=1", nil, nil)
	if a.status != 200 || json.Unmarshal(a.body, &m) != nil || m.Purged == nil || m.Purged.Reason != "old" {
		t.Fatalf("purged manifest: %d %s", a.status, a.body)
	}
}

func TestPurge(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "p/a.js", payload(3000))
	f.publish(t, "p/a.js", payload(3001))
	tests := []struct {
		name    string
		path    string
		status  int
		code    string
		version string
	}{
		{"without a reason", "/v1/objects/p/a.js", 400, api.CodeInvalid, ""},
		{"the latest", "/v1/objects/p/a.js?reason=withdrawn", 200, "", "2"},
		{"a version", "/v1/objects/p/a.js?reason=withdrawn&version=1", 200, "", "1"},
		{"twice", "/v1/objects/p/a.js?reason=again&version=1", 409, api.CodeConflict, ""},
		{"the latest when all are purged", "/v1/objects/p/a.js?reason=again", 404, api.CodeNotFound, ""},
		{"an unknown object", "/v1/objects/p/none.js?reason=x", 404, api.CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.do(t, "DELETE", tt.path, nil, nil)
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.code != "" {
				if code := a.code(t); code != tt.code {
					t.Fatalf("code %s, want %s", code, tt.code)
				}
				return
			}
			var p api.PurgeResponse
			if err := json.Unmarshal(a.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Manifest.Version != tt.version || p.Manifest.Purged == nil || p.ShardsDeleted != 6 || len(p.DeleteErrors) != 0 {
				t.Fatalf("answer %+v", p)
			}
		})
	}
	if n := f.agents.ShardCount(); n != 0 {
		t.Fatalf("%d shards left after purging every version", n)
	}
}

func TestHealthz(t *testing.T) {
	f := newFixture(t)
	a := f.do(t, "GET", "/healthz", nil, nil)
	var h api.HealthResponse
	if a.status != 200 || json.Unmarshal(a.body, &h) != nil || h.Status != "ok" {
		t.Fatalf("healthz: %d %s", a.status, a.body)
	}
	f.ready = errors.New("no peer answers")
	if a := f.do(t, "GET", "/healthz", nil, nil); a.status != 503 || a.code(t) != api.CodeLedgerUnavailable {
		t.Fatalf("healthz with the ledger down: %d %s", a.status, a.body)
	}
}

func TestPreflight(t *testing.T) {
	f := newFixture(t)
	a := f.do(t, "OPTIONS", "/cdn/x.js", nil, map[string]string{"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"})
	if a.status != http.StatusNoContent || a.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(a.header.Get("Access-Control-Allow-Headers"), "Range") {
		t.Fatalf("preflight: %d %v", a.status, a.header)
	}
}

func TestLoader(t *testing.T) {
	f := newFixture(t)
	a := f.do(t, "GET", api.LoaderPath, nil, nil)
	if a.status != 200 || !bytes.Equal(a.body, httpapi.LoaderScript()) || !strings.HasPrefix(a.header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("loader: %d %v", a.status, a.header)
	}
	sum := sha512.Sum384(a.body)
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); httpapi.LoaderIntegrity() != want {
		t.Fatalf("LoaderIntegrity %s, want the served bytes' %s", httpapi.LoaderIntegrity(), want)
	}
	if a.header.Get("Access-Control-Allow-Origin") != "*" || a.header.Get("ETag") == "" || a.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("loader headers: %v", a.header)
	}
	if b := f.do(t, "GET", api.LoaderPath, nil, map[string]string{"If-None-Match": a.header.Get("ETag")}); b.status != http.StatusNotModified || len(b.body) != 0 {
		t.Fatalf("loader revalidation: %d", b.status)
	}
	if b := f.do(t, "HEAD", api.LoaderPath, nil, nil); b.status != 200 || b.header.Get("Content-Length") != fmt.Sprint(len(a.body)) {
		t.Fatalf("loader HEAD: %d %v", b.status, b.header)
	}
	var info api.LoaderResponse
	b := f.do(t, "GET", "/v1/loader", nil, nil)
	if b.status != 200 || json.Unmarshal(b.body, &info) != nil {
		t.Fatalf("/v1/loader: %d %s", b.status, b.body)
	}
	if info != (api.LoaderResponse{URL: api.LoaderPath, Integrity: httpapi.LoaderIntegrity(), ETag: a.header.Get("ETag"), Size: len(a.body)}) {
		t.Fatalf("/v1/loader: %+v", info)
	}
}

func TestGateways(t *testing.T) {
	list := []string{"http://127.0.0.1:8080", "http://127.0.0.1:8081"}
	f := newFixtureWith(t, fixtureOptions{api: func(c *httpapi.Config) {
		c.Gateways = func() (string, []string) { return list[0], list }
	}})
	a := f.do(t, "GET", "/v1/gateways", nil, map[string]string{"Origin": "http://127.0.0.1:8081"})
	var out api.GatewaysResponse
	if a.status != 200 || json.Unmarshal(a.body, &out) != nil || out.Self != list[0] || !slices.Equal(out.Gateways, list) {
		t.Fatalf("/v1/gateways: %d %s", a.status, a.body)
	}
	if a.header.Get("Access-Control-Allow-Origin") != "*" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/v1/gateways headers: %v", a.header)
	}
	// Without a directory: an empty list, not null.
	if a := newFixture(t).do(t, "GET", "/v1/gateways", nil, nil); a.status != 200 || !strings.Contains(string(a.body), `"gateways":[]`) {
		t.Fatalf("/v1/gateways without a directory: %d %s", a.status, a.body)
	}
}

// TestPublicCORS: every answer of the public listener, errors included,
// carries the CORS headers, so the loader of a page on another origin can
// probe a gateway and tell a 503 from a network error.
func TestPublicCORS(t *testing.T) {
	f := newFixture(t)
	f.ready = errors.New("no peer answers")
	for _, p := range []string{"/healthz", "/v1/objects", "/v1/gateways", "/v1/loader", "/cdn/none.js", "/nowhere"} {
		a := f.do(t, "GET", p, nil, map[string]string{"Origin": "https://portal.example"})
		if a.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s (%d): no Access-Control-Allow-Origin: %v", p, a.status, a.header)
		}
	}
}
