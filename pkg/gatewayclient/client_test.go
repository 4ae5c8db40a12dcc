package gatewayclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
)

// request is what the stub gateway saw.
type request struct {
	Method, Path, RawQuery, ContentType string
	ContentLength                       int64
	Body                                string
}

// stub answers every request with status and body, recording it.
func stub(t *testing.T, status int, body string, hdr map[string]string) (*gatewayclient.Client, *request) {
	t.Helper()
	seen := &request{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*seen = request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
			ContentLength: r.ContentLength, Body: string(b)}
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return gatewayclient.New(srv.URL+"/", gatewayclient.WithHTTPClient(srv.Client()), gatewayclient.WithAdmin(srv.URL+"/", srv.Client())), seen
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestMethods(t *testing.T) {
	ctx := context.Background()
	manifest := &records.Manifest{Name: "a b/c.js", Version: "2", Size: 3}
	pub := api.PublishResponse{Name: "a b/c.js", Version: "2", Size: 3, StripeUnit: 1024, VersionedURL: "/cdn/a b/c.js@2"}
	list := api.ListResponse{Objects: []*records.Object{{Name: "x", Latest: "1", Versions: []string{"1"}}}}
	obj := api.ObjectResponse{Object: &records.Object{Name: "x", Latest: "1"}, Versions: []*records.Manifest{manifest}}
	purged := api.PurgeResponse{Manifest: manifest, ShardsDeleted: 6, DeleteErrors: []string{"shard 1 on n2: down"}}
	tests := []struct {
		name   string
		status int
		body   string
		call   func(c *gatewayclient.Client) (any, error)
		want   any
		req    request
	}{
		{"publish", 201, mustJSON(pub), func(c *gatewayclient.Client) (any, error) {
			return c.Publish(ctx, "a b/c.js", "text/javascript", 3, strings.NewReader("abc"))
		}, &pub, request{Method: "PUT", Path: "/v1/objects/a%20b/c.js", ContentType: "text/javascript", ContentLength: 3, Body: "abc"}},
		{"publish empty", 201, mustJSON(pub), func(c *gatewayclient.Client) (any, error) {
			return c.Publish(ctx, "e.txt", "", 0, strings.NewReader(""))
		}, &pub, request{Method: "PUT", Path: "/v1/objects/e.txt"}},
		{"list", 200, mustJSON(list), func(c *gatewayclient.Client) (any, error) {
			return c.List(ctx)
		}, list.Objects, request{Method: "GET", Path: "/v1/objects"}},
		{"object", 200, mustJSON(obj), func(c *gatewayclient.Client) (any, error) {
			return c.Object(ctx, "x")
		}, &obj, request{Method: "GET", Path: "/v1/objects/x"}},
		{"manifest", 200, mustJSON(manifest), func(c *gatewayclient.Client) (any, error) {
			return c.Manifest(ctx, "a b/c.js", "2")
		}, manifest, request{Method: "GET", Path: "/v1/objects/a%20b/c.js", RawQuery: "version=2"}},
		{"purge latest", 200, mustJSON(purged), func(c *gatewayclient.Client) (any, error) {
			return c.Purge(ctx, "x", "", "gone & done")
		}, &purged, request{Method: "DELETE", Path: "/v1/objects/x", RawQuery: "reason=gone+%26+done"}},
		{"purge a version", 200, mustJSON(purged), func(c *gatewayclient.Client) (any, error) {
			return c.Purge(ctx, "x", "1", "r")
		}, &purged, request{Method: "DELETE", Path: "/v1/objects/x", RawQuery: "reason=r&version=1"}},
		{"get", 200, "content", func(c *gatewayclient.Client) (any, error) {
			b, _, err := c.Get(ctx, "a b/c.js", "")
			return string(b), err
		}, "content", request{Method: "GET", Path: "/cdn/a%20b/c.js"}},
		{"get a version", 200, "v1", func(c *gatewayclient.Client) (any, error) {
			b, _, err := c.Get(ctx, "c.js", "1")
			return string(b), err
		}, "v1", request{Method: "GET", Path: "/cdn/c.js@1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, seen := stub(t, tt.status, tt.body, nil)
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if *seen != tt.req {
				t.Fatalf("request %+v, want %+v", *seen, tt.req)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	body := func(code, msg string) string {
		return mustJSON(api.ErrorBody{Error: api.Error{Code: code, Message: msg}})
	}
	calls := map[string]func(c *gatewayclient.Client) error{
		"publish": func(c *gatewayclient.Client) error {
			_, err := c.Publish(ctx, "a", "", 1, strings.NewReader("a"))
			return err
		},
		"list":     func(c *gatewayclient.Client) error { _, err := c.List(ctx); return err },
		"object":   func(c *gatewayclient.Client) error { _, err := c.Object(ctx, "a"); return err },
		"manifest": func(c *gatewayclient.Client) error { _, err := c.Manifest(ctx, "a", "1"); return err },
		"purge":    func(c *gatewayclient.Client) error { _, err := c.Purge(ctx, "a", "1", "r"); return err },
		"get":      func(c *gatewayclient.Client) error { _, _, err := c.Get(ctx, "a", ""); return err },
	}
	tests := []struct {
		name   string
		status int
		body   string
		want   gatewayclient.APIError
	}{
		{"conflict", 409, body(api.CodeConflict, "already purged"), gatewayclient.APIError{Status: 409, Code: api.CodeConflict, Message: "already purged"}},
		{"not found", 404, body(api.CodeNotFound, "no such object"), gatewayclient.APIError{Status: 404, Code: api.CodeNotFound, Message: "no such object"}},
		{"ledger down", 503, body(api.CodeLedgerUnavailable, "no peer"), gatewayclient.APIError{Status: 503, Code: api.CodeLedgerUnavailable, Message: "no peer"}},
		{"not JSON", 502, "bad gateway\n", gatewayclient.APIError{Status: 502, Code: "HTTP_502", Message: "bad gateway"}},
		{"JSON without a code", 500, `{"error":{}}`, gatewayclient.APIError{Status: 500, Code: "HTTP_500", Message: `{"error":{}}`}},
	}
	for _, tt := range tests {
		for name, call := range calls {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				c, _ := stub(t, tt.status, tt.body, map[string]string{"Content-Type": "application/json"})
				err := call(c)
				var ae *gatewayclient.APIError
				if !errors.As(err, &ae) || *ae != tt.want {
					t.Fatalf("error %#v, want %#v", err, tt.want)
				}
				if !gatewayclient.IsCode(err, tt.want.Code) || gatewayclient.IsCode(err, "OTHER") {
					t.Fatal("IsCode disagrees")
				}
				if !strings.Contains(err.Error(), tt.want.Code) {
					t.Fatalf("message %q does not name the code", err)
				}
			})
		}
	}
	// An answer that is not the expected JSON.
	c, _ := stub(t, 200, "not json", nil)
	if _, err := c.List(ctx); err == nil || gatewayclient.IsCode(err, "") {
		t.Fatalf("undecodable answer: %v", err)
	}
	// A gateway that does not answer.
	dead := gatewayclient.New("http://127.0.0.1:1")
	if _, err := dead.List(ctx); err == nil {
		t.Fatal("no error from an unreachable gateway")
	}
}

func TestURLs(t *testing.T) {
	c := gatewayclient.New("http://gw.example:8080/")
	tests := []struct{ name, version, want string }{
		{"portal/app.js", "", "http://gw.example:8080/cdn/portal/app.js"},
		{"portal/app.js", "3", "http://gw.example:8080/cdn/portal/app.js@3"},
		{"a b/ü.css", "", "http://gw.example:8080/cdn/a%20b/%C3%BC.css"},
	}
	for _, tt := range tests {
		if got := c.URL(tt.name, tt.version); got != tt.want {
			t.Errorf("URL(%q, %q) = %s, want %s", tt.name, tt.version, got, tt.want)
		}
	}
	if c.BaseURL() != "http://gw.example:8080" {
		t.Errorf("BaseURL() = %s", c.BaseURL())
	}
}
