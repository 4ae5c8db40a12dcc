package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// discardWriter is a reusable ResponseWriter that drops the body.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkServeWarm is the handler's cost for a cached (warm) versioned
// GET: what the gateway adds per request on top of net/http.
func BenchmarkServeWarm(b *testing.B) { benchServe(b, true, false) }

// BenchmarkServeWarmMetrics is BenchmarkServeWarm with the gateway's
// metrics recording every request (as dct-gateway runs).
func BenchmarkServeWarmMetrics(b *testing.B) { benchServe(b, true, true) }

// BenchmarkServeCold is a versioned GET with the decoded-object cache
// off: manifest from its cache, k shards fetched from the in-memory
// agents, decoded, written.
func BenchmarkServeCold(b *testing.B) { benchServe(b, false, false) }

// BenchmarkServeColdMetrics is BenchmarkServeCold with the metrics on.
func BenchmarkServeColdMetrics(b *testing.B) { benchServe(b, false, true) }

func benchServe(b *testing.B, warm, withMetrics bool) {
	o := fixtureOptions{service: func(c *content.Config) {
		c.CacheBytes, c.ManifestTTL = 1<<20, time.Hour
		if !warm {
			c.CacheBytes = 0
		}
	}}
	if withMetrics {
		o.metrics = metrics.NewGateway(prometheus.NewRegistry())
	}
	f := newFixtureWith(b, o)
	body := payload(1000)
	req, _ := http.NewRequest(http.MethodPut, f.admin.srv.URL+"/v1/objects/site/app.js", bytes.NewReader(body))
	resp, err := f.admin.client(f.admin.publisher1).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var p api.PublishResponse
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw, &p); err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("publish: %d %s", resp.StatusCode, raw)
	}
	h := f.srv.Config.Handler
	r := httptest.NewRequest(http.MethodGet, p.VersionedURL, nil)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, r)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// TestWarmPathHeaders: a warm answer (decoded-object cache hit, served
// before gin) carries the same headers as the full path's answer, and
// conditional, HEAD and ranged requests keep their semantics.
func TestWarmPathHeaders(t *testing.T) {
	f := newFixtureWith(t, fixtureOptions{service: func(c *content.Config) { c.CacheBytes, c.ManifestTTL = 1<<20, time.Hour }})
	body := payload(3000)
	p := f.publish(t, "site/warm.css", body)
	for _, path := range []string{p.VersionedURL, "/cdn/site/warm.css"} {
		cold := f.do(t, http.MethodGet, path, nil, nil) // fills the caches
		warm := f.do(t, http.MethodGet, path, nil, nil)
		if cold.status != http.StatusOK || warm.status != http.StatusOK || !bytes.Equal(warm.body, body) {
			t.Fatalf("%s: %d, then %d with %d bytes", path, cold.status, warm.status, len(warm.body))
		}
		if cold.header.Get("X-Request-Id") == warm.header.Get("X-Request-Id") || warm.header.Get("X-Request-Id") == "" {
			t.Errorf("request ids %q and %q", cold.header.Get("X-Request-Id"), warm.header.Get("X-Request-Id"))
		}
		for k := range cold.header {
			if k == "X-Request-Id" || k == "Date" {
				continue
			}
			if got, want := warm.header.Values(k), cold.header.Values(k); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s %s: warm %q, full path %q", path, k, got, want)
			}
		}
		if len(warm.header) != len(cold.header) {
			t.Errorf("%s: warm headers %v, full path %v", path, warm.header, cold.header)
		}
		nm := f.do(t, http.MethodGet, path, nil, map[string]string{"If-None-Match": warm.header.Get("ETag")})
		if nm.status != http.StatusNotModified || len(nm.body) != 0 {
			t.Errorf("%s If-None-Match: %d", path, nm.status)
		}
		head := f.do(t, http.MethodHead, path, nil, nil)
		if head.status != http.StatusOK || head.header.Get("Content-Length") != "3000" || len(head.body) != 0 {
			t.Errorf("%s HEAD: %d %v", path, head.status, head.header)
		}
		rg := f.do(t, http.MethodGet, path, nil, map[string]string{"Range": "bytes=10-19"})
		if rg.status != http.StatusPartialContent || !bytes.Equal(rg.body, body[10:20]) {
			t.Errorf("%s Range: %d %q", path, rg.status, rg.body)
		}
	}
	if a := f.do(t, http.MethodDelete, "/v1/objects/site/warm.css", nil, nil); a.status == http.StatusOK {
		t.Fatal("a write on the public listener succeeded")
	}
}
