package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dct-network/dct/pkg/api"
)

// check fails unless rec is a success among ok or a JSON error with a code
// other than INTERNAL: what a client sends is either taken or refused with
// a reason, never a server error.
func check(t *testing.T, what string, rec *httptest.ResponseRecorder, ok ...int) {
	t.Helper()
	for _, s := range ok {
		if rec.Code == s {
			return
		}
	}
	var e api.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
		t.Fatalf("%s: %d with body %q", what, rec.Code, rec.Body.Bytes())
	}
	if rec.Code < 400 || e.Error.Code == api.CodeInternal {
		t.Fatalf("%s: %d %s", what, rec.Code, rec.Body.Bytes())
	}
}

// FuzzPublishRequest: the publish path's parameters (the object name in
// the path, Content-Type, Content-Length against the body actually sent)
// come from the operator's client. A publish either records exactly the
// bytes sent or is refused with a client error.
func FuzzPublishRequest(f *testing.F) {
	f.Add("site/app.js", "text/javascript", int64(5), []byte("hello"))
	f.Add("a", "", int64(0), []byte{})
	f.Add("x/../y", "text/html; charset=utf-8", int64(3), []byte("abcd"))
	f.Add("big.bin", "application/octet-stream", int64(3<<20), []byte("a"))
	f.Add("n", "bad type\x00", int64(-1), []byte("zz"))
	f.Add("ünï/cödé.css", "text/css", int64(2), []byte("a"))
	fx := newFixture(f)
	h := fx.srv.Config.Handler
	f.Fuzz(func(t *testing.T, name, contentType string, length int64, body []byte) {
		req := httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(body))
		req.URL.Path = "/v1/objects/" + name
		req.ContentLength = length
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, "publish", rec, http.StatusCreated)
		if rec.Code != http.StatusCreated {
			return
		}
		var p api.PublishResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Size != length || length != int64(len(body)) {
			t.Fatalf("published %d bytes for Content-Length %d and a body of %d", p.Size, length, len(body))
		}
	})
}

// FuzzPurgeQuery: a purge's query (reason, version) is refused or applied,
// never a server error.
func FuzzPurgeQuery(f *testing.F) {
	for _, q := range []string{"reason=test", "reason=x&version=1", "version=9&reason=r", "reason=", "reason=%zz", "version=-1&reason=a", "reason=a&reason=b&version=1&version=2", ""} {
		f.Add(q)
	}
	fx := newFixture(f)
	h := fx.srv.Config.Handler
	body := []byte("content")
	f.Fuzz(func(t *testing.T, query string) {
		put := httptest.NewRequest(http.MethodPut, "/v1/objects/p/a.js", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, put)
		if rec.Code != http.StatusCreated {
			t.Fatalf("publish: %d %s", rec.Code, rec.Body.Bytes())
		}
		req := httptest.NewRequest(http.MethodDelete, "/v1/objects/p/a.js", nil)
		req.URL.RawQuery = query
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		check(t, "purge", rec, http.StatusOK)
	})
}
