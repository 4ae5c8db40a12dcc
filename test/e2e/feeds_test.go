//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/dct-network/dct/demo"
	"github.com/dct-network/dct/gateway"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/test/internal/testenv"
)

// feedVisibleBound is what the test asserts of every publish: the other
// organisation's gateway serves the new version within it of the commit.
// The target (p99 <= 1 s) is the benchmark's to check (make bench); this
// bound is loose so that a shared machine does not make the test flaky.
const feedVisibleBound = 3 * time.Second

// TestLiveFeed: a 1 KiB feed republished through Org1's gateway is served
// by Org2's gateway at its unversioned URL as soon as each version
// commits. Org2's gateway keeps looked-up manifests for 30 s when it does
// not follow the ledger's events, so only the manifest events can explain
// a new version within the bound. The feed is answered "no-cache" with its
// content's strong ETag: a revalidation while it is unchanged is a 304,
// versioned URLs stay immutable.
func TestLiveFeed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	other, err := testenv.StartGateway(ctx, env, env.Orgs[1].MSPID, func(c *gateway.Config) {
		c.Content.ManifestTTL = 30 * time.Second
		c.Content.ManifestLiveTTL = 30 * time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	waitEventsLive(t, ctx, other.URL)

	const name, publishes = "feeds/e2e/ticker.json", 20
	feed, err := demo.NewQuoteFeed(1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub := client()
	probe := &testenv.LatestProbe{URL: other.URL + "/cdn/" + name}
	var afterCommit, afterRequest, publishTook []time.Duration
	for i := 0; i < publishes; i++ {
		body, err := feed.Next()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := pub.Publish(ctx, name, "application/json", int64(len(body)), bytes.NewReader(body))
		if err != nil {
			t.Fatalf("publish %d: %v", i+1, err)
		}
		committed := time.Now()
		if res.Size != 1024 {
			t.Fatalf("published %d bytes, want 1024", res.Size)
		}
		v, _ := strconv.Atoi(res.Version)
		wctx, wcancel := context.WithTimeout(ctx, feedVisibleBound)
		seen, err := probe.WaitFor(wctx, v, 5*time.Millisecond)
		wcancel()
		if err != nil {
			t.Fatalf("publish %d (%s@%s): not visible at Org2's gateway within %v of its commit: %v", i+1, name, res.Version, feedVisibleBound, err)
		}
		if probe.Version != v {
			t.Fatalf("Org2's gateway serves version %d, want %d", probe.Version, v)
		}
		publishTook = append(publishTook, committed.Sub(start))
		afterCommit = append(afterCommit, max(0, seen.Sub(committed)))
		afterRequest = append(afterRequest, seen.Sub(start))
	}
	p := testenv.Percentile
	t.Logf("1 KiB feed, %d publishes through Org1's gateway, seen at Org2's (polled every 5 ms):", publishes)
	t.Logf("  publish request -> 201 (committed): p50 %v, p99 %v", p(publishTook, .5).Round(time.Millisecond), p(publishTook, .99).Round(time.Millisecond))
	t.Logf("  201 -> served by the other gateway:  p50 %v, p99 %v", p(afterCommit, .5).Round(time.Millisecond), p(afterCommit, .99).Round(time.Millisecond))
	t.Logf("  request -> served by the other:      p50 %v, p99 %v", p(afterRequest, .5).Round(time.Millisecond), p(afterRequest, .99).Round(time.Millisecond))

	// Headers and revalidation at both gateways.
	last, err := pub.Object(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	latest := last.Object.Latest
	for _, base := range []string{gatewayURL(), other.URL} {
		resp, body := get(t, ctx, base+"/cdn/"+name, "")
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, no-cache" || resp.Header.Get("X-DCT-Version") != latest || len(etag) != 66 {
			t.Fatalf("%s: %d, Cache-Control %q, version %q (want %s), ETag %q", base, resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("X-DCT-Version"), latest, etag)
		}
		var doc demo.Quotes
		if err := json.Unmarshal(body, &doc); err != nil || doc.Seq != publishes || `"`+sha256Hex(body)+`"` != etag {
			t.Fatalf("%s: feed document seq %d (%v), ETag %s", base, doc.Seq, err, etag)
		}
		if resp, body := get(t, ctx, base+"/cdn/"+name, etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
			t.Fatalf("%s: revalidation answered %d with %d bytes", base, resp.StatusCode, len(body))
		}
		if resp, _ := get(t, ctx, base+"/cdn/"+name+"@1", ""); resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: versioned feed URL: %d %q", base, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	// Other objects keep the latest max-age.
	publish(t, "e2e/feeds/not-a-feed.json", "application/json", []byte(`{}`))
	// The other gateway's peer may commit the block a moment after the
	// publishing gateway's: wait until it serves the object.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := get(t, ctx, other.URL+"/cdn/e2e/feeds/not-a-feed.json", "")
		if resp.StatusCode == http.StatusOK {
			if resp.Header.Get("Cache-Control") != "public, max-age=60" {
				t.Fatalf("not a feed: Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			break
		}
		if resp.StatusCode != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("not a feed at the other gateway: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEventsLive waits until the gateway follows the manifest events.
func waitEventsLive(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		resp, body := get(t, ctx, base+"/healthz", "")
		var h api.HealthResponse
		if resp.StatusCode == 200 && json.Unmarshal(body, &h) == nil && h.ManifestEvents == "live" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never followed the manifest events: %d %s", base, resp.StatusCode, body)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func get(t *testing.T, ctx context.Context, url, ifNoneMatch string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp, b.Bytes()
}
