//go:build bench

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway"
	"github.com/dct-network/dct/pkg/receipts"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

// suite is a network with three agents per organisation and no gateway
// processes: the gateways run in the test.
var suite = testenv.Suite{
	Name:     "bench",
	BasePort: 30050,
	PortEnv:  "DCT_BENCH_BASE_PORT",
	Network:  func(cfg *testnetwork.Config) { cfg.AgentsPerOrg = 3 },
	Services: func(_ *testenv.Network, s testnetwork.Services) (testnetwork.Services, error) {
		s.AgentsPerOrg = 3
		s.LogLevel = "warn"
		return s, nil
	},
}

// startGateway runs a gateway in this process for the network's first
// organisation, with an admin listener; mutate adjusts its configuration.
func startGateway(t *testing.T, ctx context.Context, desc *testnetwork.Description, mutate func(*gateway.Config)) testnetwork.GatewayInfo {
	t.Helper()
	cfg := gateway.DefaultConfig()
	cfg.NetworkDir = desc.RunDir
	cfg.Org = desc.Orgs[0].MSPID
	cfg.Listen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.LogLevel = "warn"
	if mutate != nil {
		mutate(&cfg)
	}
	addr := make(chan gateway.Addrs, 1)
	errc := make(chan error, 1)
	log := testenv.Logger()
	go func() { errc <- gateway.Run(ctx, cfg, log, func(a gateway.Addrs) { addr <- a }) }()
	select {
	case a := <-addr:
		return testnetwork.GatewayInfo{Org: cfg.Org, URL: "http://" + a.HTTP, AdminURL: "https://" + a.Admin}
	case err := <-errc:
		t.Fatalf("gateway: %v", err)
	}
	return testnetwork.GatewayInfo{}
}

// TestServe100KiB measures serving a 100 KiB asset: warm (decoded-object
// cache) against Go's net/http serving the same bytes from memory, and cold
// (every request fetches, verifies and decodes shards from the agents).
func TestServe100KiB(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	warmGW := startGateway(t, ctx, desc, nil)
	coldGW := startGateway(t, ctx, desc, func(c *gateway.Config) { c.Content.CacheBytes = 0 })
	warmURL, coldURL := warmGW.URL, coldGW.URL

	body := make([]byte, 100<<10)
	rand.New(rand.NewSource(1)).Read(body)
	res, err := testenv.Publisher(desc, warmGW).Publish(ctx, "bench/asset-100k.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	path := res.VersionedURL

	// The reference: net/http serving the same bytes from memory with the
	// same validators.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ref := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"`+res.SHA256+`"`)
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})}
	go ref.Serve(ln)
	defer ref.Close()
	refURL := "http://" + ln.Addr().String() + path

	for _, u := range []string{warmURL + path, coldURL + path, refURL} {
		if got := get(t, u); !bytes.Equal(got, body) {
			t.Fatalf("%s serves other bytes", u)
		}
	}
	d := envDuration("DCT_BENCH_DURATION", 10*time.Second)
	conns := 16
	refRes, err := runWrk(ctx, refURL, conns, d)
	if err != nil {
		t.Fatal(err)
	}
	warm, err := runWrk(ctx, warmURL+path, conns, d)
	if err != nil {
		t.Fatal(err)
	}
	coldLoad, err := runWrk(ctx, coldURL+path, conns, d)
	if err != nil {
		t.Fatal(err)
	}
	// Cold latency without queueing: one request at a time.
	var lat []time.Duration
	for i := 0; i < 500; i++ {
		start := time.Now()
		get(t, coldURL+path)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }

	fmt.Printf("\n100 KiB asset, k=%d m=%d, wrk -t2 -c%d -d%s on loopback (2 cores shared by wrk, gateway, agents, Fabric):\n", res.K, res.M, conns, d)
	fmt.Printf("  net/http from memory : %s\n", refRes)
	fmt.Printf("  DCT warm (cache)     : %s  = %.0f%% of net/http req/s\n", warm, 100*warm.RPS/refRes.RPS)
	fmt.Printf("  DCT cold under load  : %s\n", coldLoad)
	fmt.Printf("  DCT cold sequential  : p50 %s, p90 %s, p99 %s over %d requests\n",
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), len(lat))
	for name, r := range map[string]wrkResult{"reference": refRes, "warm": warm, "cold": coldLoad} {
		if r.Errors != "" {
			t.Errorf("%s run had errors: %s", name, r.Errors)
		}
	}
}

// TestServeReceipts measures cold serving (every request fetches k shards)
// with delivery receipts off and on: on, every request signs k receipts
// and logs them (group commit).
func TestServeReceipts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	dir := t.TempDir()
	off := startGateway(t, ctx, desc, func(c *gateway.Config) { c.Content.CacheBytes = 0 })
	on := startGateway(t, ctx, desc, func(c *gateway.Config) { c.Content.CacheBytes, c.ReceiptsDir = 0, dir })
	body := make([]byte, 100<<10)
	rand.New(rand.NewSource(2)).Read(body)
	res, err := testenv.Publisher(desc, off).Publish(ctx, "bench/receipts-100k.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	d := envDuration("DCT_BENCH_DURATION", 10*time.Second)
	conns := 16
	// Off, on, on, off: the two cores are shared with everything else,
	// so each gets a run early and a run late.
	var results []wrkResult
	for _, u := range []string{off.URL, on.URL, on.URL, off.URL} {
		if got := get(t, u+res.VersionedURL); !bytes.Equal(got, body) {
			t.Fatalf("%s serves other bytes", u)
		}
		r, err := runWrk(ctx, u+res.VersionedURL, conns, d)
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != "" {
			t.Errorf("%s: errors %s", u, r.Errors)
		}
		results = append(results, r)
	}
	cancel() // the gateways close their logs
	time.Sleep(500 * time.Millisecond)
	n := 0
	if err := receipts.ReadDir(dir, func(receipts.Logged) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n100 KiB asset, cold, k=%d, wrk -t2 -c%d -d%s:\n", res.K, conns, d)
	for i, r := range results {
		fmt.Printf("  receipts %-3s : %s\n", map[bool]string{true: "on", false: "off"}[i == 1 || i == 2], r)
	}
	offRPS, onRPS := results[0].RPS+results[3].RPS, results[1].RPS+results[2].RPS
	fmt.Printf("  on = %.0f%% of off; %d receipts logged\n", 100*onRPS/offRPS, n)
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}
