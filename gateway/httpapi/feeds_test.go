package httpapi_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/httpapi"
)

// TestServeFeeds: a feed's unversioned URL is revalidated every time (no-
// cache with the strong content ETag, 304 while unchanged, the new
// version once published), its versioned URLs stay immutable, and other
// objects keep the latest max-age.
func TestServeFeeds(t *testing.T) {
	tests := []struct {
		name     string
		maxAge   time.Duration
		wantFeed string
	}{
		{"no-cache", 0, "public, no-cache"},
		{"short max-age", time.Second, "public, max-age=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, fixtureOptions{api: func(c *httpapi.Config) {
				c.FeedPrefixes = []string{"feeds/"}
				c.FeedMaxAge = tt.maxAge
			}})
			p1 := f.publish(t, "feeds/quotes.json", []byte(`{"v":1}`))
			f.publish(t, "feedsx/other.json", []byte(`{}`))
			a := f.do(t, "GET", "/cdn/feeds/quotes.json", nil, nil)
			etag1 := `"` + p1.SHA256 + `"`
			if a.status != 200 || a.header.Get("Cache-Control") != tt.wantFeed || a.header.Get("ETag") != etag1 || a.header.Get("X-DCT-Version") != "1" {
				t.Fatalf("feed: %d %v", a.status, a.header)
			}
			a = f.do(t, "GET", "/cdn/feeds/quotes.json", nil, map[string]string{"If-None-Match": etag1})
			if a.status != 304 || len(a.body) != 0 || a.header.Get("Cache-Control") != tt.wantFeed {
				t.Fatalf("revalidation: %d %v", a.status, a.header)
			}
			p2 := f.publish(t, "feeds/quotes.json", []byte(`{"v":2}`))
			a = f.do(t, "GET", "/cdn/feeds/quotes.json", nil, map[string]string{"If-None-Match": etag1})
			if a.status != 200 || !bytes.Equal(a.body, []byte(`{"v":2}`)) || a.header.Get("ETag") != `"`+p2.SHA256+`"` || a.header.Get("X-DCT-Version") != "2" {
				t.Fatalf("after a new version: %d %q %v", a.status, a.body, a.header)
			}
			if a := f.do(t, "GET", "/cdn/feeds/quotes.json@1", nil, nil); a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Fatalf("versioned feed URL: %v", a.header)
			}
			if a := f.do(t, "GET", "/cdn/feedsx/other.json", nil, nil); a.header.Get("Cache-Control") != "public, max-age=60" {
				t.Fatalf("not a feed: %v", a.header)
			}
		})
	}
}

func TestIsFeed(t *testing.T) {
	tests := []struct {
		name     string
		prefixes []string
		want     bool
	}{
		{"feeds/quotes.json", []string{"feeds/"}, true},
		{"feeds/a/b.json", []string{"x/", "feeds/"}, true},
		{"portal/quotes.json", []string{"feeds/"}, false},
		{"feeds/quotes.json", nil, false},
		{"feeds/quotes.json", []string{""}, false},
	}
	for _, tt := range tests {
		if got := httpapi.IsFeed(tt.name, tt.prefixes); got != tt.want {
			t.Errorf("IsFeed(%q, %q) = %v", tt.name, tt.prefixes, got)
		}
	}
}
