package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// value sums the series of a family whose labels include every pair of
// match: counters' and gauges' values, histograms' sample counts.
func value(t *testing.T, reg *prometheus.Registry, name string, match ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(match); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetName() == match[i] && lp.GetValue() == match[i+1]
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				v += m.GetCounter().GetValue()
			case m.Gauge != nil:
				v += m.GetGauge().GetValue()
			case m.Histogram != nil:
				v += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return v
}

// TestMetricsMoveOnRequests: real requests through both listeners move
// the gateway's counters: a publish (admin listener), a cold read (full
// path: cache miss, shard fetches), warm reads (cache hits, GET, HEAD and
// 304), an unknown path, and the bytes each way.
func TestMetricsMoveOnRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	gm := metrics.NewGateway(reg)
	f := newFixtureWith(t, fixtureOptions{metrics: gm,
		service: func(c *content.Config) { c.CacheBytes, c.ManifestTTL = 1<<20, time.Hour }})
	body := payload(3000)
	p := f.publish(t, "site/metrics.js", body)
	cold := f.do(t, http.MethodGet, p.VersionedURL, nil, nil)
	warm := f.do(t, http.MethodGet, p.VersionedURL, nil, nil)
	head := f.do(t, http.MethodHead, p.VersionedURL, nil, nil)
	nm := f.do(t, http.MethodGet, p.VersionedURL, nil, map[string]string{"If-None-Match": warm.header.Get("ETag")})
	missing := f.do(t, http.MethodGet, "/nope", nil, nil)
	if cold.status != 200 || warm.status != 200 || head.status != 200 || nm.status != 304 || missing.status != 404 {
		t.Fatalf("statuses %d %d %d %d %d", cold.status, warm.status, head.status, nm.status, missing.status)
	}
	tests := []struct {
		name  string
		match []string
		min   float64
		max   float64
	}{
		{"dct_gateway_requests_total", []string{"route", "/v1/objects/*name", "method", "PUT", "code", "201"}, 1, 1},
		{"dct_gateway_requests_total", []string{"route", metrics.ServeRoute, "method", "GET", "code", "200"}, 2, 2},
		{"dct_gateway_requests_total", []string{"route", metrics.ServeRoute, "method", "HEAD", "code", "200"}, 1, 1},
		{"dct_gateway_requests_total", []string{"route", metrics.ServeRoute, "method", "GET", "code", "304"}, 1, 1},
		{"dct_gateway_requests_total", []string{"route", metrics.UnmatchedRoute, "method", "GET", "code", "404"}, 1, 1},
		{"dct_gateway_request_duration_seconds", []string{"route", metrics.ServeRoute}, 4, 4},
		{"dct_gateway_cache_requests_total", []string{"result", "miss"}, 1, 1},
		{"dct_gateway_cache_requests_total", []string{"result", "hit"}, 3, 3},
		{"dct_gateway_shard_fetch_duration_seconds", nil, 4, 100}, // k shards of the cold read
		{"dct_gateway_publishes_total", []string{"result", "ok"}, 1, 1},
		{"dct_gateway_publish_duration_seconds", nil, 1, 1},
		{"dct_gateway_received_bytes_total", nil, 3000, 3000},
		{"dct_gateway_sent_bytes_total", nil, 2 * 3000, 2*3000 + 4096}, // two bodies, the publish answer and the 404
	}
	for _, tc := range tests {
		if v := value(t, reg, tc.name, tc.match...); v < tc.min || v > tc.max {
			t.Errorf("%s%v = %v, want %v..%v", tc.name, tc.match, v, tc.min, tc.max)
		}
	}
}

// TestDashboardRoutes: the page and its assets are served with a
// same-origin CSP, the data as JSON that is never cached; a path out of
// the embedded files is a JSON 404, and without a dashboard nothing is
// served.
func TestDashboardRoutes(t *testing.T) {
	f := newFixtureWith(t, fixtureOptions{api: func(c *httpapi.Config) { c.Dashboard = fakeDashboard(nil).view }})
	tests := []struct {
		path, wantType, wantBody string
		status                   int
	}{
		{"/dashboard/", "text/html; charset=utf-8", `<script src="dashboard.js" defer></script>`, 200},
		{"/dashboard/index.html", "text/html; charset=utf-8", "<svg id=\"map\"", 200},
		{"/dashboard/dashboard.js", "text/javascript; charset=utf-8", "dctDashboard", 200},
		{"/dashboard/dashboard.css", "text/css; charset=utf-8", "--alive", 200},
		{"/dashboard/nope.js", "application/json; charset=utf-8", `"NOT_FOUND"`, 404},
		{"/dashboard/../dashboard.go", "application/json; charset=utf-8", `"NOT_FOUND"`, 404},
		{"/dashboard/%2e%2e/dashboard.go", "application/json; charset=utf-8", `"NOT_FOUND"`, 404},
		{"/v1/dashboard", "application/json; charset=utf-8", `"nodes":[{"id":"n1"`, 200},
	}
	for _, tc := range tests {
		a := f.do(t, http.MethodGet, tc.path, nil, nil)
		if a.status != tc.status || a.header.Get("Content-Type") != tc.wantType || !strings.Contains(string(a.body), tc.wantBody) {
			t.Errorf("%s: %d %s %.200s", tc.path, a.status, a.header.Get("Content-Type"), a.body)
		}
		if tc.status == 200 && strings.HasPrefix(tc.path, "/dashboard/") && !strings.Contains(a.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: CSP %q", tc.path, a.header.Get("Content-Security-Policy"))
		}
	}
	if a := f.do(t, http.MethodGet, "/v1/dashboard", nil, nil); a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("/v1/dashboard Cache-Control %q", a.header.Get("Cache-Control"))
	}
	off := newFixture(t)
	for _, p := range []string{"/dashboard/", "/v1/dashboard"} {
		if a := off.do(t, http.MethodGet, p, nil, nil); a.status != 404 {
			t.Errorf("without a dashboard, %s: %d", p, a.status)
		}
	}
}
