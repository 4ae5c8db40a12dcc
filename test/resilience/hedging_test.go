//go:build integration

package resilience

import (
	"fmt"
	"testing"
	"time"
)

// TestHedgingWithASlowAgent is the hedging benchmark: p50/p99 of reads with
// all agents healthy and with one agent in ten answering 200 ms late (its
// data path only; it still gossips normally, like an agent with a failing
// disk), through a gateway that hedges and one that does not, and the extra
// shard requests hedging costs.
func TestHedgingWithASlowAgent(t *testing.T) {
	objs := publishSet(t, "res/hedge", 20)
	ctx := ctxFor(t, 3*time.Minute)
	d := 5 * time.Second
	phase := func(gw int) (*loadResult, float64) {
		before := getMesh(t, gw, "").Fetches
		res := load(ctx, objs, gatewayURLs()[gw:gw+1], 4, d)
		after := getMesh(t, gw, "").Fetches
		if res.Failed > 0 {
			t.Fatalf("gateway%d: %s: %v", gw, res, res.Errors[:min(3, len(res.Errors))])
		}
		needed := after.Needed - before.Needed
		extra := float64(after.Launched-before.Launched-needed) / float64(needed)
		return res, extra
	}
	type row struct {
		name  string
		res   *loadResult
		extra float64
	}
	var rows []row
	for _, gw := range []int{0, 1} {
		res, extra := phase(gw)
		rows = append(rows, row{fmt.Sprintf("healthy, %s", hedgeName(gw)), res, extra})
	}
	proxies[slow][0].SetDelay(200 * time.Millisecond)
	defer proxies[slow][0].SetDelay(0)
	for _, gw := range []int{0, 1} {
		res, extra := phase(gw)
		rows = append(rows, row{fmt.Sprintf("%s +200 ms, %s", slow, hedgeName(gw)), res, extra})
	}
	fmt.Printf("hedging benchmark (%d objects 0.7-300 KiB, 4 clients, %s per row, cache off):\n", len(objs), d)
	for _, r := range rows {
		fmt.Printf("  %-34s p50 %7s  p99 %8s  extra shard requests %5.1f%%  (%d reads)\n", r.name,
			r.res.pct(0.5).Round(100*time.Microsecond), r.res.pct(0.99).Round(100*time.Microsecond), 100*r.extra, r.res.OK)
	}
	healthy, slowHedged := rows[0].res.pct(0.99), rows[2].res.pct(0.99)
	fmt.Printf("  p99 with a slow agent / healthy p99 (hedged): %.2fx\n", float64(slowHedged)/float64(healthy))
}

func hedgeName(gw int) string {
	if gw == 0 {
		return "hedged"
	}
	return "not hedged"
}
