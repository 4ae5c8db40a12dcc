//go:build integration

package resilience

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/netdelay"
	testnetwork "github.com/dct-network/dct/test-network"
)

var (
	env *testnetwork.Description
	// proxies put agents at a distance: agent name -> its gRPC and gossip
	// proxies.
	proxies = map[string][2]*netdelay.Proxy{}
)

const (
	agentsPerOrg = 5
	// farDelay is the one-way delay of the far agents.
	farDelay = 40 * time.Millisecond
)

// far are the agents behind a 40 ms proxy; every other agent is behind a
// proxy with no delay until a test slows it.
var far = []string{"agent3-org1", "agent4-org2"}

func cacheDir() string { return testnetwork.CacheDir("../../.cache") }

func basePort() int {
	if p, err := strconv.Atoi(os.Getenv("DCT_RESILIENCE_BASE_PORT")); err == nil {
		return p
	}
	return 31050
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	runDir, err := os.MkdirTemp("", "dct-res-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := testnetwork.DefaultConfig(runDir, cacheDir())
	cfg.BasePort = basePort()
	cfg.AgentsPerOrg = agentsPerOrg
	cfg.Logger = log
	ctx := context.Background()
	start := time.Now()
	desc, _, err := testnetwork.Up(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "network up:", err)
		return 1
	}
	code := 1
	defer func() {
		for _, p := range proxies {
			p[0].Close()
			p[1].Close()
		}
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := testnetwork.Down(dctx, runDir, code == 0); err != nil {
			fmt.Fprintln(os.Stderr, "down:", err)
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "logs are in %s/logs (kept)\n", runDir)
		}
	}()
	agentPort, gatewayPort := testnetwork.ServicePorts(cfg.BasePort)
	meshPort := testnetwork.MeshPort(cfg.BasePort)
	// Proxies listen on ports of their own, in front of where the agents
	// will listen; the agents advertise the proxies.
	proxyPort := cfg.BasePort + 800
	for j, org := range desc.Orgs {
		for a := 0; a < agentsPerOrg; a++ {
			name := fmt.Sprintf("agent%d-org%d", a, j+1)
			delay := time.Duration(0)
			for _, f := range far {
				if f == name {
					delay = farDelay
				}
			}
			grpcTarget := fmt.Sprintf("%s:%d", desc.Host, agentPort+10*j+a)
			meshTarget := fmt.Sprintf("%s:%d", desc.Host, meshPort+10*j+a)
			pg, err := netdelay.Listen(fmt.Sprintf("%s:%d", desc.Host, proxyPort), grpcTarget, delay, log)
			if err != nil {
				fmt.Fprintln(os.Stderr, "proxy:", err)
				return 1
			}
			pm, err := netdelay.Listen(fmt.Sprintf("%s:%d", desc.Host, proxyPort+1), meshTarget, delay, log)
			if err != nil {
				fmt.Fprintln(os.Stderr, "proxy:", err)
				return 1
			}
			proxyPort += 2
			proxies[name] = [2]*netdelay.Proxy{pg, pm}
			_ = org
		}
	}
	err = testnetwork.StartServices(ctx, desc, testnetwork.Services{
		BinDir: filepath.Join(cacheDir(), "bin"), AgentsPerOrg: agentsPerOrg, Gateways: 2,
		AgentPort: agentPort, GatewayPort: gatewayPort, Mesh: true, MeshPort: meshPort, Logger: log, LogLevel: "info",
		AgentArgsFor: func(a testnetwork.AgentInfo) []string {
			if p, ok := proxies[a.Name]; ok {
				return []string{"--endpoint", p[0].Addr(), "--mesh-advertise", p[1].Addr()}
			}
			return nil
		},
		Env: []string{"DCT_CACHE_BYTES=0", "DCT_AGENT_TIMEOUT=5s", "DCT_DEAD_AFTER=4s", "DCT_REPAIR_INTERVAL=1s"},
		// Gateway 1 does not hedge: the hedging benchmark compares the two.
		GatewayEnv: func(g int) []string {
			if g == 1 {
				return []string{"DCT_HEDGE=false"}
			}
			return nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "services:", err)
		return 1
	}
	env = desc
	fmt.Printf("network, %d agents (behind proxies; %v at +%s one-way) and %d gateways up in %s\n",
		len(desc.Agents), far, farDelay, len(desc.Gateways), time.Since(start).Round(time.Millisecond))
	code = m.Run()
	return code
}
