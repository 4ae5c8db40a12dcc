package mesh

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// TestVivaldiEstimates: every agent sits behind a delay (an access link:
// 2 ms and 5 ms one way for the near agents, 40 ms for the far one), so
// the gateway's RTTs are 4, 10 and 80 ms. Once the coordinates converge,
// the estimate to the far agent is close to what MeasureRTT measures and
// far larger than the estimates to the near ones.
func TestVivaldiEstimates(t *testing.T) {
	if testing.Short() {
		t.Skip("coordinates take several seconds of probing to converge")
	}
	oneWay := map[string]time.Duration{"agent-01": 2 * time.Millisecond, "agent-02": 5 * time.Millisecond, "agent-09": 40 * time.Millisecond}
	names := []string{"agent-01", "agent-02", "agent-09"}
	const far = "agent-09"
	timing := func(c Config) Config {
		// Probes must wait longer than the far RTT; probe often so the
		// coordinates converge within seconds.
		c.Timing.ProbeInterval = 200 * time.Millisecond
		c.Timing.ProbeTimeout = 150 * time.Millisecond
		return c
	}
	gw := start(t, timing(gatewayConfig("gw-1")))
	members := []*Mesh{gw}
	for _, n := range names {
		cfg := timing(agentConfig(n, gw.Addr()))
		d := oneWay[n]
		cfg.wrapTransport = func(tr memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
			return newDelayTransport(tr, d)
		}
		members = append(members, start(t, cfg))
	}
	waitFor(t, 10*time.Second, "all alive", allAlive(members...))

	est := map[string]time.Duration{}
	took := waitFor(t, 25*time.Second, "coordinates converged", func() (bool, string) {
		for _, n := range names {
			d, ok := gw.EstimateRTT(n)
			if !ok {
				return false, "no estimate to " + n
			}
			est[n] = d
		}
		farRTT := 2 * oneWay[far]
		ok := math.Abs(float64(est[far]-farRTT))/float64(farRTT) < 0.15 &&
			est[far] > 4*est["agent-01"] && est[far] > 4*est["agent-02"]
		return ok, fmt.Sprint("estimates ", est)
	})
	t.Logf("coordinates converged after %s", took.Round(100*time.Millisecond))

	// The far agent sees the same geometry from its side.
	if d, ok := members[3].EstimateRTT("gw-1"); !ok || d < oneWay[far] {
		t.Errorf("far member estimates %s to the gateway", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sumRel, sumAbs float64
	for _, n := range names {
		// A probe can miss its 150 ms timeout when the machine's cores are
		// busy (the far RTT alone is 80 ms): take the first 5 answers of
		// at most 15 probes.
		var samples []time.Duration
		var lastErr error
		for try := 0; try < 15 && len(samples) < 5; try++ {
			rtt, err := gw.MeasureRTT(ctx, n)
			if err != nil {
				lastErr = err
				continue
			}
			samples = append(samples, rtt)
		}
		if len(samples) < 5 {
			t.Fatalf("MeasureRTT(%s): %d of 15 probes answered; last error: %v", n, len(samples), lastErr)
		}
		slices.Sort(samples)
		measured := samples[len(samples)/2]
		e, _ := gw.EstimateRTT(n)
		rel := math.Abs(float64(e-measured)) / float64(measured)
		sumRel += rel
		sumAbs += math.Abs(float64(e - measured))
		t.Logf("%s: estimate %s, measured %s (median of %v), relative error %.2f",
			n, e.Round(10*time.Microsecond), measured.Round(10*time.Microsecond), samples, rel)
		if measured < 2*oneWay[n] || measured > 2*oneWay[n]+50*time.Millisecond {
			t.Errorf("measured %s to %s, want ≈%s", measured, n, 2*oneWay[n])
		}
		if n == far {
			if rel > 0.3 {
				t.Errorf("far estimate %s off the measured %s by %.0f%%", e, measured, 100*rel)
			}
			for _, near := range names[:2] {
				if ne, _ := gw.EstimateRTT(near); e < 3*ne {
					t.Errorf("far estimate %s not well above the near estimate %s to %s", e, ne, near)
				}
			}
		}
	}
	mean := sumRel / float64(len(names))
	t.Logf("mean relative error |est-measured|/measured over %d members: %.2f; mean absolute error %s",
		len(names), mean, time.Duration(sumAbs/float64(len(names))).Round(10*time.Microsecond))
	if mean > 2 {
		t.Errorf("mean relative error %.2f", mean)
	}
}
