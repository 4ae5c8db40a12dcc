//go:build integration

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/gatewayclient"
	testnetwork "github.com/dct-network/dct/test-network"
)

// env is the system shared by the tests of this package.
var env *testnetwork.Description

// Redundancy the gateway runs with (its defaults).
const k, m = 4, 2

func cacheDir() string { return testnetwork.CacheDir("../../.cache") }

func basePort() int {
	if p, err := strconv.Atoi(os.Getenv("DCT_E2E_BASE_PORT")); err == nil {
		return p
	}
	return 29050
}

func TestMain(tm *testing.M) {
	runDir, err := os.MkdirTemp("", "dct-e2e-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := testnetwork.DefaultConfig(runDir, cacheDir())
	cfg.BasePort = basePort()
	cfg.AgentsPerOrg = 3
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	start := time.Now()
	desc, _, err := testnetwork.Up(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "network up:", err)
		os.Exit(1)
	}
	agentPort, gatewayPort := testnetwork.ServicePorts(cfg.BasePort)
	err = testnetwork.StartServices(ctx, desc, testnetwork.Services{
		BinDir: filepath.Join(cacheDir(), "bin"), AgentsPerOrg: 3, Gateways: 1,
		AgentPort: agentPort, GatewayPort: gatewayPort, Logger: cfg.Logger,
		// Exercise the shard path on every read; keep requests bounded.
		Env:      []string{"DCT_CACHE_BYTES=0", "DCT_MAX_OBJECT_BYTES=" + strconv.Itoa(maxObject), "DCT_AGENT_TIMEOUT=5s"},
		LogLevel: "info",
	})
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "services:", err)
	} else {
		fmt.Printf("network, %d agents and %d gateway up in %s\n", len(desc.Agents), len(desc.Gateways), time.Since(start).Round(time.Millisecond))
		env = desc
		code = tm.Run()
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "logs are in %s/logs (kept)\n", runDir)
	}
	dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := testnetwork.Down(dctx, runDir, code == 0); err != nil {
		fmt.Fprintln(os.Stderr, "down:", err)
		code = 1
	}
	os.Exit(code)
}

const maxObject = 100 << 20

func client() *gatewayclient.Client { return gatewayclient.New(env.Gateways[0].URL) }

func gatewayURL() string { return env.Gateways[0].URL }
