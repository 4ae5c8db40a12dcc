//go:build integration

package resilience

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/netdelay"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
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

// suite is a network with five agents per organisation, each behind its
// proxies, gossiping in the mesh, and three gateways (Org1, Org2, Org1:
// the frontend failover test republishes Org1's feed through the Org1
// gateway the page does not use).
var suite = testenv.Suite{
	Name:     "res",
	BasePort: 31050, PortEnv: "DCT_RESILIENCE_BASE_PORT",
	Network:  func(cfg *testnetwork.Config) { cfg.AgentsPerOrg = agentsPerOrg },
	Services: services,
	Ready: func(n *testenv.Network) {
		env = n.Desc
		fmt.Printf("network, %d agents (behind proxies; %v at +%s one-way) and %d gateways up in %s\n",
			len(env.Agents), far, farDelay, len(env.Gateways), n.Elapsed())
	},
}

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, suite)) }

// services starts the agents' proxies and says how agents and gateways run.
func services(n *testenv.Network, s testnetwork.Services) (testnetwork.Services, error) {
	n.OnDown(func() {
		for _, p := range proxies {
			p[0].Close()
			p[1].Close()
		}
	})
	if err := startProxies(n, s); err != nil {
		return s, err
	}
	s.AgentsPerOrg, s.Gateways = agentsPerOrg, 3
	s.Mesh = true
	s.LogLevel = "info"
	s.AgentArgsFor = func(a testnetwork.AgentInfo) []string {
		args := append(opsArgs(n, a), placeArgs(a)...)
		if p, ok := proxies[a.Name]; ok {
			args = append(args, "--endpoint", p[0].Addr(), "--mesh-advertise", p[1].Addr())
		}
		return args
	}
	s.Env = []string{"DCT_CACHE_BYTES=0", "DCT_AGENT_TIMEOUT=5s", "DCT_DEAD_AFTER=4s", "DCT_REPAIR_INTERVAL=1s"}
	// Gateway 1 does not hedge: the hedging benchmark compares the two.
	s.GatewayEnv = func(g int) []string {
		env := []string{"DCT_OPS_LISTEN=" + gatewayOpsAddr(n, g)}
		if g == 1 {
			env = append(env, "DCT_HEDGE=false")
		}
		return env
	}
	return s, nil
}

// standingDelay is the suite's delay of an agent: farDelay for the far
// ones, none for the others. A test that changes delays puts these back
// with restoreDelays.
func standingDelay(name string) time.Duration {
	if slices.Contains(far, name) {
		return farDelay
	}
	return 0
}

// restoreDelays puts every proxy back at its standing delay and waits, up
// to d, until every gateway's mesh map has taken that in: every agent
// alive, each far agent estimated at 70 % of farDelay or more (less 1 ms,
// as TestSimulatorAgrees waits for its delays) and each near agent under
// a quarter of it, so the far ones are estimated farther than every near
// one — what TestMeshSeesEveryAgent and TestRoutingPrefersNear expect. The
// Vivaldi coordinates move a little on every probe: after the agents have
// been spread over tens of milliseconds, the map needs some seconds to
// settle back, and a test that reads it meanwhile sees the old delays.
func restoreDelays(t *testing.T, d time.Duration) {
	t.Helper()
	for name, p := range proxies {
		p[0].SetDelay(standingDelay(name))
		p[1].SetDelay(standingDelay(name))
	}
	farMs := float64(farDelay) / float64(time.Millisecond)
	start := time.Now()
	for gw := range env.Gateways {
		var last []string
		for {
			ms, _ := members(t, gw, false)
			ok := 0
			last = last[:0]
			for _, mb := range ms {
				if _, isAgent := proxies[mb.NodeID]; !isAgent {
					continue
				}
				est := math.NaN()
				if mb.RTTEstimateMs != nil {
					est = *mb.RTTEstimateMs
				}
				settled := est < farMs/4
				if slices.Contains(far, mb.NodeID) {
					settled = est >= 0.7*farMs-1
				}
				if mb.Status == "alive" && settled {
					ok++
				}
				last = append(last, fmt.Sprintf("%s %s est %.1f ms, standing delay %s", mb.NodeID, mb.Status, est, standingDelay(mb.NodeID)))
			}
			if ok == len(proxies) {
				break
			}
			if time.Since(start) > d {
				slices.Sort(last)
				t.Errorf("gateway%d's mesh map has not settled back to the standing delays within %s:\n  %s", gw, d, strings.Join(last, "\n  "))
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	fmt.Printf("delays restored (%v at +%s, the others at 0): every gateway's mesh map settled back in %s\n",
		far, farDelay, time.Since(start).Round(100*time.Millisecond))
}

// startProxies puts a gRPC and a gossip proxy in front of where every agent
// will listen; the agents advertise the proxies. The proxies listen on
// ports of their own, from the network's base port + 800.
func startProxies(n *testenv.Network, s testnetwork.Services) error {
	host := n.Desc.Host
	proxyPort := n.Config.BasePort + 800
	for j := range n.Desc.Orgs {
		for a := 0; a < agentsPerOrg; a++ {
			name := fmt.Sprintf("agent%d-org%d", a, j+1)
			delay := standingDelay(name)
			grpcTarget := fmt.Sprintf("%s:%d", host, s.AgentPort+10*j+a)
			meshTarget := fmt.Sprintf("%s:%d", host, s.MeshPort+10*j+a)
			pg, err := netdelay.Listen(fmt.Sprintf("%s:%d", host, proxyPort), grpcTarget, delay, s.Logger)
			if err != nil {
				return fmt.Errorf("proxy: %w", err)
			}
			pm, err := netdelay.Listen(fmt.Sprintf("%s:%d", host, proxyPort+1), meshTarget, delay, s.Logger)
			if err != nil {
				pg.Close()
				return fmt.Errorf("proxy: %w", err)
			}
			proxyPort += 2
			proxies[name] = [2]*netdelay.Proxy{pg, pm}
		}
	}
	return nil
}
