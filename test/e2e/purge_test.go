//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// purgeRounds is how many objects TestPurgeByKeyAcrossGateways purges,
// one hard purge by key each: the samples of its propagation figures.
const purgeRounds = 20

// purgeBound is the bound: every gateway stops serving a
// hard-purged object's cached bytes within a second of the commit.
const purgeBound = time.Second

// cachingGateways starts two gateways in this process that cache decoded
// content (the suite's gateway caches none): A for Org1, where the
// publisher purges, and B for Org2. They stop with ctx.
func cachingGateways(t *testing.T, ctx context.Context) (a, b testnetwork.GatewayInfo) {
	t.Helper()
	caching := func(c *gateway.Config) {
		c.Content.CacheBytes = 64 << 20
		c.SLAAttest = false
	}
	var err error
	if a, err = testenv.StartGateway(ctx, env, env.Orgs[0].MSPID, caching); err != nil {
		t.Fatal(err)
	}
	if b, err = testenv.StartGateway(ctx, env, env.Orgs[1].MSPID, caching); err != nil {
		t.Fatal(err)
	}
	waitEventsLive(t, ctx, a.URL)
	waitEventsLive(t, ctx, b.URL)
	return a, b
}

// health reads a gateway's /healthz.
func health(t *testing.T, ctx context.Context, base string) api.HealthResponse {
	t.Helper()
	resp, body := get(t, ctx, base+"/healthz", "")
	var h api.HealthResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil {
		t.Fatalf("%s/healthz: %s %s", base, resp.Status, body)
	}
	return h
}

// purgeCounters reads a gateway's purge counters from /v1/mesh.
func purgeCounters(t *testing.T, ctx context.Context, base string) api.MeshPurges {
	t.Helper()
	resp, body := get(t, ctx, base+"/v1/mesh", "")
	var m api.MeshResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &m) != nil {
		t.Fatalf("%s/v1/mesh: %s %s", base, resp.Status, body)
	}
	return m.Purges
}

// cacheOn reads url from a gateway until it serves body from its decoded
// cache: the gateway's cached bytes grew by the object, and the answer
// carries the object's surrogate keys.
func cacheOn(t *testing.T, ctx context.Context, base, path string, body []byte, keys string) {
	t.Helper()
	before := health(t, ctx, base).CachedBytes
	for i := 0; ; i++ {
		resp, got := get(t, ctx, base+path, "")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("GET %s%s: %s, %d bytes", base, path, resp.Status, len(got))
		}
		if sk := resp.Header.Get(api.SurrogateKeyHeader); sk != keys {
			t.Fatalf("GET %s%s: Surrogate-Key %q, want %q", base, path, sk, keys)
		}
		if health(t, ctx, base).CachedBytes >= before+int64(len(body)) {
			return
		}
		if i == 50 {
			t.Fatalf("%s never cached %s", base, path)
		}
	}
}

// percentile is the p-th percentile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// TestPurgeByKeyAcrossGateways: two caching gateways of two organisations serve an object
// from their caches; a hard purge by key through gateway A makes gateway
// B stop serving the cached bytes within a second (B learns it from the
// ledger's invalidate event: it polls nothing); the propagation is
// measured over purgeRounds purges (p50, p99, max, printed). A soft purge
// makes B revalidate against the ledger and keep serving the content.
func TestPurgeByKeyAcrossGateways(t *testing.T) {
	ctx := ctxT(t, 10*time.Minute)
	a, b := cachingGateways(t, ctx)
	pubA := testenv.Publisher(env, a)

	var lat []time.Duration
	for i := range purgeRounds {
		name := fmt.Sprintf("e2e/purge/r%02d.bin", i)
		key := fmt.Sprintf("e2e-purge-%02d", i)
		body := payload(32<<10, int64(900+i))
		res, err := pubA.PublishWith(ctx, name, "application/octet-stream", int64(len(body)), bytes.NewReader(body),
			gatewayclient.WithSurrogateKeys(key, "e2e-purge-all"))
		if err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
		keys := key + " e2e-purge-all"
		cacheOn(t, ctx, a.URL, res.VersionedURL, body, keys)
		cacheOn(t, ctx, b.URL, res.VersionedURL, body, keys)

		out, err := pubA.PurgeBy(ctx, records.PurgeRequest{Key: key, Mode: records.PurgeHard, Reason: "e2e purge round"})
		if err != nil {
			t.Fatalf("purge by key %s: %v", key, err)
		}
		committed := time.Now()
		if !slices.Equal(out.Purge.Targets, []string{name + "@" + res.Version}) || out.Purge.Publisher != a.Org {
			t.Fatalf("purge record %+v", out.Purge)
		}
		// Gateway A applied its own purge before answering.
		if resp, _ := get(t, ctx, a.URL+res.VersionedURL, ""); resp.StatusCode != http.StatusGone {
			t.Fatalf("gateway A after the purge: %s, want 410", resp.Status)
		}
		for {
			resp, _ := get(t, ctx, b.URL+res.VersionedURL, "")
			if resp.StatusCode == http.StatusGone {
				lat = append(lat, time.Since(committed))
				break
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("gateway B during the purge: %s", resp.Status)
			}
			if time.Since(committed) > 10*purgeBound {
				t.Fatalf("gateway B still serves %s %s after the purge committed", name, time.Since(committed))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	slices.Sort(lat)
	p50, p99, worst := percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
	fmt.Printf("purge by key, gateway A (%s) -> gateway B (%s) stops serving cached bytes, %d purges: p50 %s p99 %s max %s (bound %s)\n",
		a.Org, b.Org, len(lat), p50.Round(time.Millisecond), p99.Round(time.Millisecond), worst.Round(time.Millisecond), purgeBound)
	if p99 > purgeBound {
		t.Errorf("p99 %s exceeds the %s bound (max %s)", p99, purgeBound, worst)
	}

	// Soft purge: B marks its cached manifest stale, revalidates on the
	// next request and keeps serving the same bytes from its cache.
	body := payload(48<<10, 977)
	res, err := pubA.PublishWith(ctx, "e2e/purge/soft.bin", "application/octet-stream", int64(len(body)), bytes.NewReader(body),
		gatewayclient.WithSurrogateKeys("e2e-soft"))
	if err != nil {
		t.Fatal(err)
	}
	cacheOn(t, ctx, b.URL, res.VersionedURL, body, "e2e-soft")
	before := purgeCounters(t, ctx, b.URL)
	cached := health(t, ctx, b.URL).CachedBytes
	if _, err := pubA.PurgeBy(ctx, records.PurgeRequest{Key: "e2e-soft", Mode: records.PurgeSoft, Reason: "e2e refresh"}); err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	for purgeCounters(t, ctx, b.URL).Invalidations == before.Invalidations {
		if time.Since(committed) > 10*purgeBound {
			t.Fatal("gateway B never applied the soft purge")
		}
		time.Sleep(2 * time.Millisecond)
	}
	fmt.Printf("soft purge reached gateway B in %s\n", time.Since(committed).Round(time.Millisecond))
	resp, got := get(t, ctx, b.URL+res.VersionedURL, "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET after a soft purge: %s", resp.Status)
	}
	after := purgeCounters(t, ctx, b.URL)
	if after.Revalidations <= before.Revalidations {
		t.Errorf("gateway B did not revalidate after the soft purge: %+v then %+v", before, after)
	}
	if now := health(t, ctx, b.URL).CachedBytes; now < cached {
		t.Errorf("the soft purge dropped cached content: %d then %d bytes", cached, now)
	}
}

// TestPurgeRefusals: purges by key and surrogate keys at publish are
// refused with stable codes: a malformed key, too many keys, a caller
// without the publisher role, another organisation's publisher, a key
// tagging nothing.
func TestPurgeRefusals(t *testing.T) {
	ctx := ctxT(t, 5*time.Minute)
	a := env.Gateways[0]
	pubA := testenv.Publisher(env, a)
	auditorA, err := testenv.Client(env, a, "", testnetwork.RoleAuditor)
	if err != nil {
		t.Fatal(err)
	}
	otherOrg, err := testenv.Client(env, a, env.Orgs[1].MSPID, testnetwork.RolePublisher)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("refusals")
	if _, err := pubA.PublishWith(ctx, "e2e/purge/keep.txt", "text/plain", int64(len(body)), bytes.NewReader(body),
		gatewayclient.WithSurrogateKeys("e2e-keep")); err != nil {
		t.Fatal(err)
	}
	many := make([]string, records.MaxSurrogateKeys+1)
	for i := range many {
		many[i] = fmt.Sprintf("k%d", i)
	}
	hard := func(key string) records.PurgeRequest {
		return records.PurgeRequest{Key: key, Mode: records.PurgeHard, Reason: "refusal test"}
	}
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"malformed key", func() error { _, err := pubA.PurgeBy(ctx, hard("bad key")); return err }, api.CodeInvalid},
		{"key too long", func() error { _, err := pubA.PurgeBy(ctx, hard(strings.Repeat("k", 65))); return err }, api.CodeInvalid},
		{"bad mode", func() error {
			_, err := pubA.PurgeBy(ctx, records.PurgeRequest{Key: "e2e-keep", Mode: "all", Reason: "r"})
			return err
		}, api.CodeInvalid},
		{"no reason", func() error {
			_, err := pubA.PurgeBy(ctx, records.PurgeRequest{Key: "e2e-keep", Mode: records.PurgeHard})
			return err
		}, api.CodeInvalid},
		{"auditor purges", func() error { _, err := auditorA.PurgeBy(ctx, hard("e2e-keep")); return err }, api.CodeForbidden},
		{"another organisation's publisher", func() error { _, err := otherOrg.PurgeBy(ctx, hard("e2e-keep")); return err }, api.CodeForbidden},
		{"key tagging nothing", func() error { _, err := pubA.PurgeBy(ctx, hard("e2e-nothing")); return err }, api.CodeNotFound},
		{"too many keys at publish", func() error {
			_, err := pubA.PublishWith(ctx, "e2e/purge/many.txt", "text/plain", 1, strings.NewReader("x"), gatewayclient.WithSurrogateKeys(many...))
			return err
		}, api.CodeInvalid},
		{"malformed key at publish", func() error {
			_, err := pubA.PublishWith(ctx, "e2e/purge/bad.txt", "text/plain", 1, strings.NewReader("x"), gatewayclient.WithSurrogateKeys("no/slash"))
			return err
		}, api.CodeInvalid},
		{"purge on the public listener", func() error {
			_, err := gatewayclient.New(a.URL, gatewayclient.WithAdmin(a.URL, http.DefaultClient)).PurgeBy(ctx, hard("e2e-keep"))
			return err
		}, api.CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !gatewayclient.IsCode(err, tt.code) {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
		})
	}
	// Nothing was purged.
	resp, got := get(t, ctx, a.URL+"/cdn/e2e/purge/keep.txt", "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("after the refusals: %s %q", resp.Status, got)
	}
}
