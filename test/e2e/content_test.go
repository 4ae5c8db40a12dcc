//go:build integration

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/api"
)

// TestPublishAndServe publishes objects of many sizes and reads them back
// byte-identical through the latest and the versioned URL, with the CDN
// headers a portal frontend relies on.
func TestPublishAndServe(t *testing.T) {
	sizes := []int{0, 1, 600, 4 << 10, 1 << 20, 64 << 20}
	for i, size := range sizes {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			body := payload(size, int64(i))
			name := fmt.Sprintf("e2e/sizes/object-%d.bin", size)
			res := publish(t, name, "application/octet-stream", body)
			if res.Size != int64(size) || res.SHA256 != sha256Hex(body) || res.Integrity != sri(body) {
				t.Fatalf("publish answered size %d sha256 %s integrity %s", res.Size, res.SHA256, res.Integrity)
			}
			if res.K != k || res.M != m || len(res.Placement) != k+m || res.TxID == "" || res.Version != "1" {
				t.Fatalf("publish answered k=%d m=%d placement %v tx %q version %q", res.K, res.M, res.Placement, res.TxID, res.Version)
			}
			checkPlacement(t, res)
			for _, path := range []string{res.URL, res.VersionedURL} {
				resp, got := do(t, http.MethodGet, path, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %s %s", path, resp.Status, got)
				}
				if !bytes.Equal(got, body) {
					t.Fatalf("GET %s: %d bytes differ from the %d published", path, len(got), len(body))
				}
				h := resp.Header
				if h.Get("ETag") != `"`+res.SHA256+`"` || h.Get("Content-Length") != strconv.Itoa(size) ||
					h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Accept-Ranges") != "bytes" {
					t.Fatalf("GET %s headers: %v", path, h)
				}
				immutable := strings.Contains(h.Get("Cache-Control"), "immutable")
				if immutable != (path == res.VersionedURL) {
					t.Fatalf("GET %s Cache-Control %q", path, h.Get("Cache-Control"))
				}
			}
			resp, got := do(t, http.MethodHead, res.VersionedURL, nil)
			if resp.StatusCode != http.StatusOK || len(got) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
				t.Fatalf("HEAD: %s, %d body bytes, length %q", resp.Status, len(got), resp.Header.Get("Content-Length"))
			}
		})
	}
}

// checkPlacement: no node holds k or more shards of an object, losing any
// one node leaves k shards, and the shards span both organisations' zones.
func checkPlacement(t *testing.T, res *api.PublishResponse) {
	t.Helper()
	per := map[string]int{}
	zones := map[string]bool{}
	for _, holders := range res.Placement {
		for _, id := range holders {
			per[id]++
			zones[agentByNode(t, id).Zone] = true
		}
	}
	for id, n := range per {
		if n >= res.K || n > res.M {
			t.Fatalf("node %s holds %d shards (k=%d, m=%d): %v", id, n, res.K, res.M, res.Placement)
		}
	}
	if len(zones) < 2 {
		t.Fatalf("shards in one zone only: %v", res.Placement)
	}
}

func TestRangesAndConditionals(t *testing.T) {
	const size = 1 << 20
	body := payload(size, 42)
	res := publish(t, "e2e/ranges/data.bin", "", body)
	etag := `"` + res.SHA256 + `"`
	tests := []struct {
		name       string
		hdr        map[string]string
		status     int
		want       []byte
		contentRng string
	}{
		{"first bytes", map[string]string{"Range": "bytes=0-99"}, 206, body[:100], "bytes 0-99/1048576"},
		{"middle", map[string]string{"Range": "bytes=500000-570000"}, 206, body[500000:570001], "bytes 500000-570000/1048576"},
		{"open end", map[string]string{"Range": "bytes=1048000-"}, 206, body[1048000:], "bytes 1048000-1048575/1048576"},
		{"suffix", map[string]string{"Range": "bytes=-100"}, 206, body[size-100:], "bytes 1048476-1048575/1048576"},
		{"past the end is clipped", map[string]string{"Range": "bytes=1048570-2000000"}, 206, body[1048570:], "bytes 1048570-1048575/1048576"},
		{"unsatisfiable", map[string]string{"Range": "bytes=2000000-2000010"}, 416, nil, "bytes */1048576"},
		{"if-none-match hit", map[string]string{"If-None-Match": etag}, 304, nil, ""},
		{"if-none-match list", map[string]string{"If-None-Match": `"x", ` + etag}, 304, nil, ""},
		{"if-none-match miss", map[string]string{"If-None-Match": `"other"`}, 200, body, ""},
		{"if-range current", map[string]string{"Range": "bytes=10-19", "If-Range": etag}, 206, body[10:20], "bytes 10-19/1048576"},
		{"if-range stale", map[string]string{"Range": "bytes=10-19", "If-Range": `"old"`}, 200, body, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := do(t, http.MethodGet, res.VersionedURL, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d: %.200s", resp.Status, tt.status, got)
			}
			if cr := resp.Header.Get("Content-Range"); cr != tt.contentRng {
				t.Fatalf("Content-Range %q, want %q", cr, tt.contentRng)
			}
			switch tt.status {
			case 416:
				if code := errorCode(t, got); code != api.CodeRangeNotSatisfied {
					t.Fatalf("code %s", code)
				}
			case 304:
				if len(got) != 0 || resp.Header.Get("ETag") != etag {
					t.Fatalf("304 with %d bytes, ETag %q", len(got), resp.Header.Get("ETag"))
				}
			default:
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("%d bytes, want %d (content differs)", len(got), len(tt.want))
				}
			}
		})
	}
}

func TestVersions(t *testing.T) {
	name := "e2e/versions/app.js"
	v1 := []byte("console.log('v1');\n")
	v2 := []byte("console.log('version two');\n")
	r1 := publish(t, name, "", v1)
	r2 := publish(t, name, "", v2)
	if r1.Version != "1" || r2.Version != "2" {
		t.Fatalf("versions %q, %q", r1.Version, r2.Version)
	}
	for path, want := range map[string][]byte{"/cdn/" + name: v2, "/cdn/" + name + "@1": v1, "/cdn/" + name + "@2": v2} {
		resp, got := do(t, http.MethodGet, path, nil)
		if resp.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Fatalf("GET %s: %s %q", path, resp.Status, got)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Fatalf("GET %s: Content-Type %q", path, ct)
		}
	}
	info, err := client().Object(ctxT(t, time.Minute), name)
	if err != nil || len(info.Versions) != 2 || info.Object.Latest != "2" {
		t.Fatalf("object info %+v: %v", info, err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		code               string
	}{
		{"unknown object", "GET", "/cdn/e2e/no/such.css", nil, 404, api.CodeNotFound},
		{"unknown version", "GET", "/cdn/e2e/versions/app.js@99", nil, 404, api.CodeNotFound},
		{"unknown metadata", "GET", "/v1/objects/e2e/no/such.css", nil, 404, api.CodeNotFound},
		{"purge without reason", "DELETE", "/v1/objects/e2e/versions/app.js", nil, 400, api.CodeInvalid},
		{"bad name", "PUT", "/v1/objects/e2e/bad%20name", map[string]string{"Content-Length": "0"}, 400, api.CodeInvalid},
		{"method not allowed", "POST", "/cdn/e2e/x", nil, 405, api.CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := do(t, tt.method, tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d: %s", resp.Status, tt.status, got)
			}
			if code := errorCode(t, got); code != tt.code {
				t.Fatalf("code %s, want %s", code, tt.code)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		// The gateway answers from the headers, before reading the body.
		body := io.LimitReader(zeros{}, maxObject+1)
		req, _ := http.NewRequestWithContext(ctxT(t, time.Minute), http.MethodPut, adminURL()+"/v1/objects/e2e/huge.bin", body)
		req.ContentLength = maxObject + 1
		resp, err := publisherHTTP(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %s, want 413", resp.Status)
		}
	})
	t.Run("no content length", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctxT(t, time.Minute), http.MethodPut, adminURL()+"/v1/objects/e2e/chunked.bin", strings.NewReader("abc"))
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
		resp, err := publisherHTTP(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusLengthRequired {
			t.Fatalf("status %s, want 411", resp.Status)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
