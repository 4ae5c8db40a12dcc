//go:build integration

package resilience

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/sim"
	"github.com/dct-network/dct/test/internal/testenv"
)

// Tolerances of TestSimulatorAgrees: the simulator and the real gateway
// agree when the shares of shard requests per agent differ by at most
// agreeShares in total variation, and the real median read latency is
// within agreeMs + agreeRel of the simulator's (its edge-to-data time
// plus the local cost of a read, measured with every delay at zero).
const (
	agreeShares = 0.15
	agreeMs     = 3.0
	agreeRel    = 0.15
	// warmup reads fill a gateway's 512-latency window (4 shards a read).
	warmup = 140
	// maxRTT keeps every agent's RTT under the mesh's probe timeout
	// (mesh.DefaultTiming: 100 ms), or it would be suspected.
	maxRTT = 80 * time.Millisecond
)

// TestSimulatorAgrees is the scale simulator's check against real
// processes (issue 14): the ten agents are put at real cities around a
// gateway in Paris (each agent's proxies delay it by the simulator's RTT
// from Paris, cities chosen so that the RTTs lie 7 ms or more apart, all
// under maxRTT);
// reads through gateway 0 (hedging) and gateway 1 (not hedging) are
// compared with pkg/sim's prediction of the same reads over the same
// placement, both after warm-up reads.
//
// It leaves the proxies at the suite's standing delays and waits until
// every gateway's mesh map has settled back to them (restoreDelays), so
// the tests after it (TestMeshSeesEveryAgent, TestRoutingPrefersNear) see
// near and far agents as the suite set them.
func TestSimulatorAgrees(t *testing.T) {
	cities, err := sim.LoadCities(sim.DefaultZoneTab)
	if err != nil {
		t.Fatalf("the simulator's city table (Debian's tzdata): %v", err)
	}
	var paris sim.City
	for _, c := range cities {
		if c.String() == "Europe/Paris" {
			paris = c
		}
	}
	if paris.Name == "" {
		t.Fatal("no Europe/Paris in the city table")
	}
	lat := sim.DefaultLatency()
	sort.SliceStable(cities, func(i, j int) bool {
		return sim.DistanceKM(paris.Lat, paris.Lon, cities[i].Lat, cities[i].Lon) < sim.DistanceKM(paris.Lat, paris.Lon, cities[j].Lat, cities[j].Lon)
	})
	var agents []string
	for _, a := range env.Agents {
		agents = append(agents, a.Name)
	}
	slices.Sort(agents)
	rng := rand.New(rand.NewSource(14))
	rng.Shuffle(len(agents), func(i, j int) { agents[i], agents[j] = agents[j], agents[i] })
	rtt := map[string]time.Duration{}
	var where []string
	prev := -time.Hour
	for _, c := range cities {
		if len(where) == len(agents) {
			break
		}
		d := lat.Propagation(sim.DistanceKM(paris.Lat, paris.Lon, c.Lat, c.Lon))
		if d-prev < 7*time.Millisecond {
			continue
		}
		if d >= maxRTT {
			break
		}
		a := agents[len(where)]
		rtt[a], prev = d, d
		where = append(where, fmt.Sprintf("%s %s (%s)", a, c, d.Round(100*time.Microsecond)))
	}
	if len(rtt) != len(agents) {
		t.Fatalf("only %d cities 7 ms apart within %s", len(rtt), maxRTT)
	}
	setDelays := func(d func(name string) time.Duration) {
		for name, p := range proxies {
			p[0].SetDelay(d(name))
			p[1].SetDelay(d(name))
		}
	}
	t.Cleanup(func() { restoreDelays(t, 3*time.Minute) })

	// Small objects: a shard fits one gRPC flow-control window, so a
	// shard request is one round trip through the proxy.
	c := testenv.Publisher(env, env.Gateways[0])
	ctx := ctxFor(t, 5*time.Minute)
	var names []string
	var objects [][][]string
	k, m := 0, 0
	for i := range 12 {
		b := make([]byte, 16<<10)
		rng.Read(b)
		name := fmt.Sprintf("res/sim/obj-%02d.bin", i)
		pub, err := c.Publish(ctx, name, "", int64(len(b)), bytes.NewReader(b))
		if err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
		man, err := c.Manifest(ctx, name, pub.Version)
		if err != nil {
			t.Fatalf("manifest %s: %v", name, err)
		}
		if man.K < 2 || len(man.Shards) != man.K+man.M {
			t.Fatalf("manifest %s@%s: k=%d m=%d with %d shards", name, pub.Version, man.K, man.M, len(man.Shards))
		}
		var shards [][]string
		for _, sh := range man.Shards {
			shards = append(shards, sh.Nodes)
		}
		names, objects, k, m = append(names, name), append(objects, shards), man.K, man.M
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	reads := func(gw, n int) []time.Duration {
		var out []time.Duration
		for i := range n {
			start := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.Gateways[gw].URL+"/cdn/"+names[i%len(names)], nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var buf bytes.Buffer
			_, err = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("read %s: %s %v", names[i%len(names)], resp.Status, err)
			}
			out = append(out, time.Since(start))
		}
		slices.Sort(out)
		return out
	}
	p50 := func(d []time.Duration) float64 { return float64(d[len(d)/2]) / float64(time.Millisecond) }

	// The local cost of a read, every delay at zero.
	setDelays(func(string) time.Duration { return 0 })
	base := [2]float64{p50(reads(0, 60)), p50(reads(1, 60))}

	// The planet: wait until both gateways' meshes have taken the delays
	// in (every agent alive, each estimate at least 70 % of its delay,
	// less 1 ms); the simulator ranks by the same estimates.
	setDelays(func(name string) time.Duration { return rtt[name] })
	fmt.Printf("simulator agreement: gateway in %s, agents at\n  %s\n", paris, joinLines(where))
	for gw := range 2 {
		var last []string
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ms, _ := members(t, gw, false)
			n := 0
			last = last[:0]
			for _, mb := range ms {
				want, ok := rtt[mb.NodeID]
				if !ok {
					continue
				}
				w := float64(want) / float64(time.Millisecond)
				est := math.NaN()
				if mb.RTTEstimateMs != nil {
					est = *mb.RTTEstimateMs
				}
				if mb.Status == "alive" && est >= 0.7*w-1 {
					n++
				}
				last = append(last, fmt.Sprintf("%s %s est %.1f ms, injected %.1f ms", mb.NodeID, mb.Status, est, w))
			}
			if n == len(rtt) {
				break
			}
			if time.Now().After(deadline) {
				slices.Sort(last)
				t.Fatalf("gateway%d's mesh has not taken the injected delays in within 2 min:\n  %s", gw, joinLines(last))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	// The gateways rank holders by their mesh's estimates: the
	// simulator ranks by the same figures (its latencies are the injected
	// RTTs).
	estimates := func(gw int) map[string]time.Duration {
		ms, _ := members(t, gw, false)
		out := map[string]time.Duration{}
		for _, mb := range ms {
			if _, ok := rtt[mb.NodeID]; ok && mb.RTTEstimateMs != nil {
				out[mb.NodeID] = time.Duration(*mb.RTTEstimateMs * float64(time.Millisecond))
			}
		}
		return out
	}
	for gw, hedge := range []bool{true, false} {
		// Fill the gateway's window of recent latencies (the hedge
		// delay is their p95) with reads at these delays, as the
		// simulator's warm-up does.
		reads(gw, warmup)
		before := getMesh(t, gw, "").Fetches
		lats := reads(gw, 120)
		after := getMesh(t, gw, "").Fetches
		real := map[string]float64{}
		var total int64
		for id, st := range after.Nodes {
			if d := st.Fetches - before.Nodes[id].Fetches; d > 0 {
				real[id] = float64(d)
				total += d
			}
		}
		for id := range real {
			real[id] /= float64(total)
		}
		cfg := sim.DefaultConfig()
		cfg.K, cfg.M, cfg.R, cfg.EstimateError, cfg.Hedge = k, m, 1, 0, hedge
		cfg.Latency.ServerBase, cfg.Latency.ServerMean, cfg.Latency.SlowShare = 0, 300*time.Microsecond, 0
		pred, err := sim.Predict(cfg, rtt, estimates(gw), objects, warmup, 120)
		if err != nil {
			t.Fatal(err)
		}
		tv := sim.TotalVariation(real, pred.Requests)
		want := base[gw] + float64(pred.P50)/float64(time.Millisecond)
		got := p50(lats)
		fmt.Printf("gateway%d (%s): shard requests per read real %.2f, simulated %.2f; share distance %.3f (tolerance %.2f); median read real %.1f ms, simulated %.1f ms (edge-to-data %.1f + local %.1f; tolerance %.0f ms + %.0f %%)\n",
			gw, hedgeName(gw), float64(total)/120, pred.Launched, tv, agreeShares, got, want, float64(pred.P50)/float64(time.Millisecond), base[gw], agreeMs, 100*agreeRel)
		for _, a := range agents {
			fmt.Printf("    %-12s rtt %6.1f ms  real %5.1f %%  simulated %5.1f %%\n", a, float64(rtt[a])/float64(time.Millisecond), 100*real[a], 100*pred.Requests[a])
		}
		if tv > agreeShares {
			t.Errorf("gateway%d: shares of shard requests differ by %.3f, more than %.2f", gw, tv, agreeShares)
		}
		if math.Abs(got-want) > agreeMs+agreeRel*want {
			t.Errorf("gateway%d: median read %.1f ms, simulated %.1f ms: beyond %.0f ms + %.0f %%", gw, got, want, agreeMs, 100*agreeRel)
		}
	}
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(x)
	}
	return b.String()
}
