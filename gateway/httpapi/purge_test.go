package httpapi_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
)

// TestSurrogateKeys: a publish's Surrogate-Key header tags the version,
// whose answers serve it, on the full path and the warm path alike;
// malformed, too many and too long headers are refused.
func TestSurrogateKeys(t *testing.T) {
	f := newFixtureWith(t, fixtureOptions{service: func(c *content.Config) { c.ManifestTTL = time.Minute }})
	a := f.do(t, http.MethodPut, "/v1/objects/site/a.js", []byte("alert(1)"), map[string]string{api.SurrogateKeyHeader: "release-42  site"})
	if a.status != http.StatusCreated {
		t.Fatalf("publish: %d %s", a.status, a.body)
	}
	for i, path := range []string{"/cdn/site/a.js", "/cdn/site/a.js", "/cdn/site/a.js@1", "/cdn/site/a.js@1"} {
		got := f.do(t, http.MethodGet, path, nil, nil)
		if got.status != http.StatusOK || got.header.Get(api.SurrogateKeyHeader) != "release-42 site" {
			t.Fatalf("GET %d %s: %d, Surrogate-Key %q", i, path, got.status, got.header.Get(api.SurrogateKeyHeader))
		}
	}
	untagged := f.publish(t, "site/b.js", []byte("b"))
	if got := f.do(t, http.MethodGet, untagged.VersionedURL, nil, nil); got.header.Get(api.SurrogateKeyHeader) != "" {
		t.Fatalf("an untagged version serves Surrogate-Key %q", got.header.Get(api.SurrogateKeyHeader))
	}
	many := make([]string, records.MaxSurrogateKeys+1)
	for i := range many {
		many[i] = "k" + strings.Repeat("x", i)
	}
	for _, h := range []string{"bad/key", "a a", strings.Join(many, " "), strings.Repeat("k ", 600)} {
		got := f.do(t, http.MethodPut, "/v1/objects/site/c.js", []byte("c"), map[string]string{api.SurrogateKeyHeader: h})
		if got.status != http.StatusBadRequest || got.code(t) != api.CodeInvalid {
			t.Errorf("Surrogate-Key %.40q: %d %s, want 400 INVALID_ARGUMENT", h, got.status, got.body)
		}
	}
}

// TestPurgeByEndpoint: POST /v1/purge on the admin listener purges by
// key (hard and soft), DELETE ?mode=soft soft-purges by name; malformed
// requests, callers who are not the gateway organisation's publishers and
// the public listener are refused.
func TestPurgeByEndpoint(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"a", "b"} {
		if a := f.do(t, http.MethodPut, "/v1/objects/"+name, []byte(name), map[string]string{api.SurrogateKeyHeader: "k"}); a.status != http.StatusCreated {
			t.Fatalf("publish %s: %d %s", name, a.status, a.body)
		}
	}
	post := func(id tls.Certificate, body string) answer {
		return f.admin.do(t, id, http.MethodPost, api.PurgePath, []byte(body))
	}
	refusals := []struct {
		name   string
		id     tls.Certificate
		body   string
		status int
		code   string
	}{
		{"malformed JSON", f.admin.publisher1, `{"key":`, 400, api.CodeInvalid},
		{"unknown field", f.admin.publisher1, `{"key":"k","mode":"hard","reason":"r","all":true}`, 400, api.CodeInvalid},
		{"malformed key", f.admin.publisher1, `{"key":"a b","mode":"hard","reason":"r"}`, 400, api.CodeInvalid},
		{"no mode", f.admin.publisher1, `{"key":"k","reason":"r"}`, 400, api.CodeInvalid},
		{"too large", f.admin.publisher1, `{"key":"k","mode":"hard","reason":"` + strings.Repeat("r", 5000) + `"}`, 400, api.CodeInvalid},
		{"key tagging nothing", f.admin.publisher1, `{"key":"none","mode":"hard","reason":"r"}`, 404, api.CodeNotFound},
		{"anonymous", tls.Certificate{}, `{"key":"k","mode":"hard","reason":"r"}`, 401, api.CodeUnauthenticated},
		{"auditor", f.admin.auditor1, `{"key":"k","mode":"hard","reason":"r"}`, 403, api.CodeForbidden},
		{"another organisation's publisher", f.admin.publisher2, `{"key":"k","mode":"hard","reason":"r"}`, 403, api.CodeForbidden},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if a := post(tt.id, tt.body); a.status != tt.status || a.code(t) != tt.code {
				t.Fatalf("%d %s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
		})
	}
	if a := f.do(t, http.MethodPost, api.PurgePath, []byte(`{"key":"k","mode":"hard","reason":"r"}`), nil); a.status != http.StatusMethodNotAllowed {
		t.Fatalf("POST on the public listener: %d %s", a.status, a.body)
	}
	if a := f.do(t, http.MethodDelete, "/v1/objects/a?reason=r&mode=gentle", nil, nil); a.status != http.StatusBadRequest {
		t.Fatalf("DELETE with a bad mode: %d %s", a.status, a.body)
	}
	decode := func(a answer) api.PurgeByResponse {
		t.Helper()
		var r api.PurgeByResponse
		if a.status != http.StatusOK || json.Unmarshal(a.body, &r) != nil || r.Purge == nil {
			t.Fatalf("purge: %d %s", a.status, a.body)
		}
		return r
	}
	soft := decode(f.do(t, http.MethodDelete, "/v1/objects/a?reason=refresh&mode=soft", nil, nil))
	if soft.Purge.Mode != records.PurgeSoft || strings.Join(soft.Purge.Targets, ",") != "a@1" {
		t.Fatalf("soft purge by name: %+v", soft.Purge)
	}
	if a := f.do(t, http.MethodGet, "/cdn/a", nil, nil); a.status != http.StatusOK || string(a.body) != "a" {
		t.Fatalf("after a soft purge: %d %s", a.status, a.body)
	}
	hard := decode(post(f.admin.publisher1, `{"key":"k","mode":"hard","reason":"recall"}`))
	if strings.Join(hard.Purge.Targets, ",") != "a@1,b@1" || hard.ShardsDeleted == 0 || hard.Purge.Publisher != "Org1MSP" {
		t.Fatalf("hard purge by key: %+v", hard)
	}
	for _, p := range []string{"/cdn/a@1", "/cdn/b@1"} {
		if a := f.do(t, http.MethodGet, p, nil, nil); a.status != http.StatusGone {
			t.Fatalf("GET %s after a hard purge: %d", p, a.status)
		}
	}
}
