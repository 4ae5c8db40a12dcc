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
	"syscall"
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
// with delivery receipts off and on: on, every request issues k receipts
// into the log (sealed once per group commit). After a warm-up of both
// gateways, off and on alternate in the order off, on, on, off, off, on,
// on, off, so that a drift of the shared machine's load hits both alike.
// It reports req/s (sums of the on and off runs) and the CPU time of this
// process (both gateways run in it, one loaded at a time) per request.
// DCT_BENCH_RECEIPTS_FLUSH sets the group commit interval (default: the
// gateway's).
func TestServeReceipts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	dir := t.TempDir()
	off := startGateway(t, ctx, desc, func(c *gateway.Config) { c.Content.CacheBytes = 0 })
	flush := envDuration("DCT_BENCH_RECEIPTS_FLUSH", gateway.DefaultConfig().ReceiptsFlush)
	on := startGateway(t, ctx, desc, func(c *gateway.Config) { c.Content.CacheBytes, c.ReceiptsDir, c.ReceiptsFlush = 0, dir, flush })
	body := make([]byte, 100<<10)
	rand.New(rand.NewSource(2)).Read(body)
	res, err := testenv.Publisher(desc, off).Publish(ctx, "bench/receipts-100k.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	d := envDuration("DCT_BENCH_DURATION", 10*time.Second)
	conns := 16
	for _, u := range []string{off.URL, on.URL} {
		if got := get(t, u+res.VersionedURL); !bytes.Equal(got, body) {
			t.Fatalf("%s serves other bytes", u)
		}
		if _, err := runWrk(ctx, u+res.VersionedURL, conns, d/2); err != nil { // warm-up
			t.Fatal(err)
		}
	}
	type run struct {
		on  bool
		r   wrkResult
		cpu time.Duration // this process's, per request
	}
	var runs []run
	for _, isOn := range []bool{false, true, true, false, false, true, true, false} {
		u := off.URL
		if isOn {
			u = on.URL
		}
		cpu0 := processCPU()
		r, err := runWrk(ctx, u+res.VersionedURL, conns, d)
		if err != nil {
			t.Fatal(err)
		}
		cpu := processCPU() - cpu0
		if r.Errors != "" {
			t.Errorf("%s: errors %s", u, r.Errors)
		}
		runs = append(runs, run{on: isOn, r: r, cpu: time.Duration(float64(cpu) / (r.RPS * d.Seconds()))})
	}
	cancel() // the gateways close their logs
	time.Sleep(500 * time.Millisecond)
	n := 0
	if err := receipts.ReadDir(dir, func(receipts.Logged) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no receipt logged")
	}
	fmt.Printf("\n100 KiB asset, cold, k=%d, wrk -t2 -c%d -d%s (after a %s warm-up of each gateway), group commits every %s:\n", res.K, conns, d, d/2, flush)
	var rps, cpu [2]float64
	var cnt [2]int
	for _, r := range runs {
		i := 0
		if r.on {
			i = 1
		}
		rps[i] += r.r.RPS
		cpu[i] += float64(r.cpu)
		cnt[i]++
		fmt.Printf("  receipts %-3s : %s; gateway process CPU %s a request\n", map[bool]string{true: "on", false: "off"}[r.on], r.r, r.cpu.Round(time.Microsecond))
	}
	fmt.Printf("  on = %.0f%% of off in req/s; CPU a request on = %.0f%% of off; %d receipts logged\n",
		100*rps[1]/rps[0], 100*(cpu[1]/float64(cnt[1]))/(cpu[0]/float64(cnt[0])), n)
	report(t, "cold 100 KiB serving with receipts on, vs off (req/s summed over 4 runs each, alternating)", "≥ 95 %",
		fmt.Sprintf("%.0f %% (%.0f / %.0f req/s)", 100*rps[1]/rps[0], rps[1]/float64(cnt[1]), rps[0]/float64(cnt[0])), VerdictOf(rps[1] >= 0.95*rps[0]))
}

// processCPU is this process's user + system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
