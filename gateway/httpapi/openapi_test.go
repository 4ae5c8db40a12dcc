package httpapi

import (
	"context"
	"encoding/json"
	"github.com/dct-network/dct/pkg/api"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// openAPIOps reads the document's operations: "METHOD /path" by listener
// (x-dct-listener).
func openAPIOps(t *testing.T, doc []byte) map[string][]string {
	t.Helper()
	var d struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Listener []string `json:"x-dct-listener"`
		}
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Fatalf("openapi version %q, want 3.x", d.OpenAPI)
	}
	out := map[string][]string{}
	for path, item := range d.Paths {
		for method, op := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			if len(op.Listener) == 0 {
				t.Errorf("%s %s names no x-dct-listener", strings.ToUpper(method), path)
			}
			for _, l := range op.Listener {
				out[l] = append(out[l], strings.ToUpper(method)+" "+path)
			}
		}
	}
	return out
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// routesOf lists a router's routes as "METHOD /path" with OpenAPI's path
// templating ({x} for gin's :x and *x).
func routesOf(r *gin.Engine) []string {
	var out []string
	for _, rt := range r.Routes() {
		out = append(out, rt.Method+" "+ginParam.ReplaceAllString(rt.Path, "{$1}"))
	}
	return out
}

// diff is what want lists and got does not.
func diff(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesRouters: every route of each listener's gin router is
// documented in openapi.json for that listener, and every documented
// operation is a registered route. A failure lists the routes to add to
// the document (or to the routers) one per line.
func TestOpenAPIMatchesRouters(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	// Every optional route on: the dashboard's.
	all := Config{Dashboard: func(context.Context) api.DashboardView { return api.DashboardView{} }}
	public, _ := newPublic(nil, all, nil, log)
	admin, ok := NewAdmin(nil, AdminConfig{}, log).(*gin.Engine)
	if !ok {
		t.Fatal("NewAdmin no longer returns the gin router: adapt the test")
	}
	ops := openAPIOps(t, openAPIDoc)
	for _, l := range []struct {
		name   string
		router *gin.Engine
	}{{"public", public}, {"admin", admin}} {
		routes := routesOf(l.router)
		if missing := diff(routes, ops[l.name]); len(missing) > 0 {
			t.Errorf("%d routes of the %s listener are not documented in gateway/httpapi/openapi.json (x-dct-listener %q):\n\t%s",
				len(missing), l.name, l.name, strings.Join(missing, "\n\t"))
		}
		if extra := diff(ops[l.name], routes); len(extra) > 0 {
			t.Errorf("%d operations documented for the %s listener in gateway/httpapi/openapi.json are not routes of its router:\n\t%s",
				len(extra), l.name, strings.Join(extra, "\n\t"))
		}
	}
}

// TestOpenAPIServed: the public listener serves the document at
// /v1/openapi.json.
func TestOpenAPIServed(t *testing.T) {
	public, _ := newPublic(nil, Config{}, nil, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	public.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /v1/openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !json.Valid(rec.Body.Bytes()) || len(openAPIOps(t, rec.Body.Bytes())["public"]) == 0 {
		t.Fatal("the served document is not the OpenAPI document")
	}
}

// TestOpenAPIDiff: the comparison reports both directions.
func TestOpenAPIDiff(t *testing.T) {
	got := diff([]string{"GET /a", "PUT /b", "GET /c"}, []string{"GET /a"})
	if !slices.Equal(got, []string{"GET /c", "PUT /b"}) {
		t.Fatalf("diff = %v", got)
	}
	if r := ginParam.ReplaceAllString("/v1/audit/history/:kind/*key", "{$1}"); r != "/v1/audit/history/{kind}/{key}" {
		t.Fatalf("path conversion %q", r)
	}
}
