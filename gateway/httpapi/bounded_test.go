package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
)

// get sends a GET and reads the whole body; err is the body's read error
// (a response aborted mid-stream).
func (f *fixture) get(t *testing.T, path string, hdr map[string]string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// apiError decodes an error body and checks that it carries the request
// id of the X-Request-Id header.
func (a answer) apiError(t *testing.T) api.Error {
	t.Helper()
	var e api.ErrorBody
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	if id := a.header.Get(api.RequestIDHeader); id == "" || e.Error.RequestID != id {
		t.Fatalf("request id %q in the body, %q in the header", e.Error.RequestID, id)
	}
	return e.Error
}

// waitFor polls cond (a readiness signal of the code under test) for up to
// 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRangesStreamInSegments: a range of an object larger than
// CacheMaxObject is fetched and decoded segment by segment, like a whole
// GET: no agent is ever asked for more of a shard than one segment needs.
func TestRangesStreamInSegments(t *testing.T) {
	f := newFixture(t)
	cfg := serviceConfig()
	body := payload(100_000)
	p := f.publish(t, "big/data.bin", body)
	m, err := f.svc.Manifest(t.Context(), p.Name, p.Version)
	if err != nil {
		t.Fatal(err)
	}
	// A segment's ciphertext (plaintext plus one tag per chunk) spans at
	// most this many stripes, each one unit of every shard.
	segCipher := cfg.SegmentBytes + (cfg.SegmentBytes/cfg.ChunkSize+2)*16
	bound := (segCipher/(int64(p.K)*p.StripeUnit) + 2) * p.StripeUnit
	if bound >= m.Shards[0].Size {
		t.Fatalf("test object too small: bound %d, shard %d bytes", bound, m.Shards[0].Size)
	}
	tests := []struct {
		rng        string
		off, n     int
		status     int
		contentRng string
	}{
		{"", 0, len(body), 200, ""},
		{"bytes=0-", 0, len(body), 206, "bytes 0-99999/100000"},
		{"bytes=1234-98765", 1234, 98765 - 1234 + 1, 206, "bytes 1234-98765/100000"},
		{"bytes=-5000", 95_000, 5000, 206, "bytes 95000-99999/100000"},
		{"bytes=99999-", 99_999, 1, 206, "bytes 99999-99999/100000"},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.rng != "" {
				hdr["Range"] = tt.rng
			}
			a := f.do(t, "GET", "/cdn/big/data.bin@1", nil, hdr)
			if a.status != tt.status || a.header.Get("Content-Range") != tt.contentRng || !bytes.Equal(a.body, body[tt.off:tt.off+tt.n]) {
				t.Fatalf("got %d %q, %d bytes", a.status, a.header.Get("Content-Range"), len(a.body))
			}
			for _, ag := range f.agents.All() {
				if got := ag.MaxGet(); got > bound {
					t.Fatalf("agent %s was asked for %d bytes of a shard at once, bound %d", ag.ID(), got, bound)
				}
			}
		})
	}
}

// TestStreamsAreVerified: large objects are authenticated chunk by chunk
// (AES-GCM) and a whole read also checks the SHA-256 at the end: with a
// manifest whose SHA-256 is wrong, whole reads are aborted mid-stream (the
// client sees a truncated body, never a complete wrong one) and small
// objects are refused before any byte; a range that is not the whole
// object is still served, since each of its chunks authenticates.
func TestStreamsAreVerified(t *testing.T) {
	f := newFixture(t)
	body, small := payload(100_000), payload(3000)
	f.publish(t, "v/big.bin", body)
	f.publish(t, "v/small.bin", small)
	wrong := strings.Repeat("ab", 32)
	f.ledger.Tamper("v/big.bin", "1", func(m *records.Manifest) { m.SHA256 = wrong })
	f.ledger.Tamper("v/small.bin", "1", func(m *records.Manifest) { m.SHA256 = wrong })
	for _, rng := range []string{"", "bytes=0-"} {
		resp, b, err := f.get(t, "/cdn/v/big.bin@1", map[string]string{"Range": rng})
		if err == nil {
			t.Fatalf("Range %q: whole read of a mismatching object completed: %d, %d bytes", rng, resp.StatusCode, len(b))
		}
	}
	resp, b, err := f.get(t, "/cdn/v/big.bin@1", map[string]string{"Range": "bytes=1-"})
	if err != nil || resp.StatusCode != 206 || !bytes.Equal(b, body[1:]) {
		t.Fatalf("range: %v %d, %d bytes", err, resp.StatusCode, len(b))
	}
	a := f.do(t, "GET", "/cdn/v/small.bin@1", nil, nil)
	if a.status != http.StatusBadGateway || a.apiError(t).Code != api.CodeCorrupt {
		t.Fatalf("small object: %d %s", a.status, a.body)
	}
}

// TestAgentsSendingTooMuch: an agent streaming more than it was asked for
// fails that shard's fetch as a corrupt copy; the read goes on from the
// other shards, and fails cleanly when too few are left.
func TestAgentsSendingTooMuch(t *testing.T) {
	f := newFixture(t)
	body := payload(50_000)
	p := f.publish(t, "o/data.bin", body)
	f.agents.Get(p.Placement[0][0]).SetOverSend(1)
	if a := f.do(t, "GET", "/cdn/o/data.bin@1", nil, map[string]string{"Range": "bytes=100-40000"}); a.status != 206 || !bytes.Equal(a.body, body[100:40001]) {
		t.Fatalf("one agent over-sending: %d, %d bytes", a.status, len(a.body))
	}
	for _, h := range p.Placement[:3] {
		f.agents.Get(h[0]).SetOverSend(4096)
	}
	a := f.do(t, "GET", "/cdn/o/data.bin@1", nil, map[string]string{"Range": "bytes=100-40000"})
	if a.status != http.StatusServiceUnavailable || a.apiError(t).Code != api.CodeShardsUnavailable {
		t.Fatalf("three agents over-sending: %d %s", a.status, a.body)
	}
	if !strings.Contains(f.log.String(), content.ErrShardCorrupt.Error()) {
		t.Fatalf("the log does not say why:\n%s", f.log)
	}
}

// TestLongStreamsOutliveTimeouts: the server's write deadline and the
// request timeout would cut a stream that takes longer than they do; the
// handler renews the write deadline for every segment, and the request
// timeout bounds only the answer's start. Without the renewal the same
// stream is cut. (Segments are fetched one after another here, so that
// the stream's length is the sum of their delays.)
func TestLongStreamsOutliveTimeouts(t *testing.T) {
	const limit = 300 * time.Millisecond
	body := payload(100_000) // 13 segments of 8000 bytes, each ≥ 40 ms
	tests := []struct {
		name   string
		renew  time.Duration
		wantOK bool
	}{{"write deadline renewed per segment", limit, true}, {"server deadline only", 0, false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, fixtureOptions{
				service: func(c *content.Config) { c.StreamDepth = 1 },
				api:     func(c *httpapi.Config) { c.RequestTimeout, c.WriteTimeout = limit, tt.renew },
				server:  func(s *http.Server) { s.WriteTimeout = limit },
			})
			f.publish(t, "slow/data.bin", body)
			for _, ag := range f.agents.All() {
				ag.SetDelay(40 * time.Millisecond)
			}
			start := time.Now()
			resp, b, err := f.get(t, "/cdn/slow/data.bin@1", nil)
			took := time.Since(start)
			if took <= limit {
				t.Fatalf("the stream took %s, not longer than the %s timeouts: the test proves nothing", took, limit)
			}
			ok := err == nil && resp.StatusCode == 200 && bytes.Equal(b, body)
			if ok != tt.wantOK {
				t.Fatalf("stream of %s: complete %v (%v, %d bytes), want %v", took, ok, err, len(b), tt.wantOK)
			}
		})
	}
	// The request timeout still bounds an answer that does not start.
	f := newFixtureWith(t, fixtureOptions{api: func(c *httpapi.Config) { c.RequestTimeout, c.WriteTimeout = limit, limit }})
	f.publish(t, "slow/data.bin", body)
	for _, ag := range f.agents.All() {
		ag.SetDelay(5 * time.Second)
	}
	if a := f.do(t, "GET", "/cdn/slow/data.bin@1", nil, nil); a.status != http.StatusGatewayTimeout || a.apiError(t).Code != api.CodeTimeout {
		t.Fatalf("hung agents: %d %s", a.status, a.body)
	}
}

// TestColdReadLimit: beyond MaxColdReads reads fetching shards, a cold
// read waits up to ColdReadWait, then is answered 503 OVERLOADED with
// Retry-After; reads served from the cache are not limited.
func TestColdReadLimit(t *testing.T) {
	tests := []struct {
		name   string
		wait   time.Duration
		status int
	}{{"no wait", 0, http.StatusServiceUnavailable}, {"queued", 10 * time.Second, http.StatusPartialContent}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, fixtureOptions{service: func(c *content.Config) { c.MaxColdReads, c.ColdReadWait = 1, tt.wait }})
			body, small := payload(100_000), payload(3000)
			f.publish(t, "c/big.bin", body)
			f.publish(t, "c/small.js", small)
			if a := f.do(t, "GET", "/cdn/c/small.js@1", nil, nil); a.status != 200 { // now cached
				t.Fatalf("small: %d", a.status)
			}
			for _, ag := range f.agents.All() {
				ag.SetDelay(100 * time.Millisecond)
			}
			first := make(chan answer, 1)
			go func() { first <- f.do(t, "GET", "/cdn/c/big.bin@1", nil, nil) }()
			waitFor(t, "the first cold read", func() bool { return f.svc.ColdReads() == 1 })
			if a := f.do(t, "GET", "/cdn/c/small.js@1", nil, nil); a.status != 200 || !bytes.Equal(a.body, small) {
				t.Fatalf("warm read during a cold one: %d", a.status)
			}
			a := f.do(t, "GET", "/cdn/c/big.bin@1", nil, map[string]string{"Range": "bytes=10-20"})
			if a.status != tt.status {
				t.Fatalf("second cold read: %d %s, want %d", a.status, a.body, tt.status)
			}
			if a.status == http.StatusServiceUnavailable {
				if e := a.apiError(t); e.Code != api.CodeOverloaded || a.header.Get("Retry-After") == "" {
					t.Fatalf("overloaded: %+v, Retry-After %q", e, a.header.Get("Retry-After"))
				}
			}
			if a := <-first; a.status != 200 || !bytes.Equal(a.body, body) {
				t.Fatalf("first cold read: %d, %d bytes", a.status, len(a.body))
			}
			if n := f.svc.ColdReads(); n != 0 {
				t.Fatalf("%d cold reads still hold a slot", n)
			}
		})
	}
}

// TestErrorsOfAnonymousReads: reads get a stable code, a message that
// names nothing inside the system and a request id; the whole error is in
// the log under that id. Publishes (operators) keep the whole message.
func TestErrorsOfAnonymousReads(t *testing.T) {
	f := newFixture(t)
	p := f.publish(t, "s/app.js", payload(3000))
	for _, h := range p.Placement[:3] {
		f.agents.Get(h[0]).SetDown(true)
	}
	f.ready = fmt.Errorf("rpc error: code = Unavailable desc = connection refused to peer0.org1.dct.test:7051")
	internal := []string{"n0", "n1", "n2", "n3", "n4", "n5", "shard", "rpc", "peer0", "127.0.0.1", "/"}
	ids := map[string]bool{}
	for _, tt := range []struct {
		path   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"/cdn/s/app.js@1", nil, 503, api.CodeShardsUnavailable},
		{"/cdn/s/app.js@1", map[string]string{"Range": "bytes=3-9"}, 503, api.CodeShardsUnavailable},
		{"/healthz", nil, 503, api.CodeLedgerUnavailable},
		{"/cdn/s/none.js", nil, 404, api.CodeNotFound},
	} {
		a := f.do(t, "GET", tt.path, nil, tt.hdr)
		e := a.apiError(t)
		if a.status != tt.status || e.Code != tt.code || e.Message == "" {
			t.Fatalf("%s: %d %s, want %d %s", tt.path, a.status, a.body, tt.status, tt.code)
		}
		for _, s := range internal {
			if strings.Contains(e.Message, s) {
				t.Fatalf("%s: message %q names %q", tt.path, e.Message, s)
			}
		}
		if ids[e.RequestID] {
			t.Fatalf("request id %s given twice", e.RequestID)
		}
		ids[e.RequestID] = true
		// The log has the whole error under the request id.
		var line string
		for _, l := range strings.Split(f.log.String(), "\n") {
			if strings.Contains(l, "requestId="+e.RequestID) {
				line = l
			}
		}
		if !strings.Contains(line, "code="+tt.code) || (tt.code == api.CodeShardsUnavailable && !strings.Contains(line, "shard 0 on n")) {
			t.Fatalf("%s: log line of request %s: %q", tt.path, e.RequestID, line)
		}
	}
	// An operator's publish gets the whole message.
	a := f.do(t, "PUT", "/v1/objects/s/huge.bin", payload(2<<20), nil)
	if e := a.apiError(t); a.status != http.StatusRequestEntityTooLarge || !strings.Contains(e.Message, "the limit is") {
		t.Fatalf("publish too large: %d %s", a.status, a.body)
	}
	// Successful answers carry a request id too.
	if a := f.do(t, "GET", "/v1/objects", nil, nil); a.status != 200 || a.header.Get(api.RequestIDHeader) == "" {
		t.Fatalf("list: %d, request id %q", a.status, a.header.Get(api.RequestIDHeader))
	}
}
