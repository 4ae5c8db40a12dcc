//go:build integration

package resilience

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// TestReplicationThree: a gateway with r=3 places every shard on three
// nodes; reads pick each needed shard's nearest holder, and with a holder of
// every shard gone (two agents SIGSTOPped, so hung rather than refusing)
// the object is still served, from the next-nearest holders.
func TestReplicationThree(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := gateway.DefaultConfig()
	cfg.NetworkDir, cfg.Org, cfg.Listen, cfg.Name = env.RunDir, env.Orgs[0].MSPID, "127.0.0.1:0", "gateway-r3"
	cfg.MeshListen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	var seeds []string
	for _, a := range env.Agents {
		seeds = append(seeds, a.MeshAddress)
	}
	cfg.MeshJoin = seeds
	cfg.Content.R, cfg.Content.CacheBytes, cfg.Repair = 3, 0, false
	cfg.LogLevel = "warn"
	addr := make(chan gateway.Addrs, 1)
	errc := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { errc <- gateway.Run(ctx, cfg, log, func(a gateway.Addrs) { addr <- a }) }()
	var gw testnetwork.GatewayInfo
	select {
	case a := <-addr:
		gw = testnetwork.GatewayInfo{Name: cfg.Name, Org: cfg.Org, URL: "http://" + a.HTTP, AdminURL: "https://" + a.Admin}
	case err := <-errc:
		t.Fatal(err)
	}
	base := gw.URL
	body := make([]byte, 60_000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	res, err := testenv.Publisher(env, gw).Publish(ctxFor(t, time.Minute), "res/r3/app.js", "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	holds := map[string]int{}
	for i, h := range res.Placement {
		if len(h) != 3 {
			t.Fatalf("shard %d has holders %v, want 3", i, h)
		}
		for _, id := range h {
			holds[id]++
		}
	}
	for id, n := range holds {
		if n >= res.K {
			t.Fatalf("node %s holds %d shards (k=%d)", id, n, res.K)
		}
	}
	get := func() []byte {
		resp, err := http.Get(base + res.VersionedURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET: %s %s", resp.Status, b)
		}
		return b
	}
	if sha256.Sum256(get()) != sha256.Sum256(body) {
		t.Fatal("bytes differ")
	}
	// Hang the first holders of shards 0 and 1: every shard still has two
	// live holders, and hedges reach them.
	for _, id := range []string{res.Placement[0][0], res.Placement[1][0]} {
		if err := env.Signal(id, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		id := id
		t.Cleanup(func() { _ = env.Signal(id, syscall.SIGCONT) })
	}
	var worst time.Duration
	for range 20 {
		start := time.Now()
		if !bytes.Equal(get(), body) {
			t.Fatal("bytes differ with two holders hung")
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("r=3: 20 reads with two holders hung, slowest %s", worst.Round(time.Millisecond))
	if worst > 2*time.Second {
		t.Fatalf("a read took %s with two holders hung", worst)
	}
}
