//go:build integration

package resilience

import (
	"fmt"
	"testing"
	"time"
)

// TestHedgingWithASlowAgent is the hedging benchmark: p50/p99 of reads with
// all ten agents near and healthy, and with one of them answering 200 ms
// late (its data path only; it still gossips normally, like an agent with a
// failing disk), through a gateway that hedges and one that does not, and
// the extra shard requests hedging costs.
func TestHedgingWithASlowAgent(t *testing.T) {
	objs := publishSet(t, "res/hedge", 20)
	ctx := ctxFor(t, 3*time.Minute)
	// The benchmark's scenario has no far agents: bring them near for it.
	for _, f := range far {
		for _, p := range proxies[f] {
			p.SetDelay(0)
		}
	}
	defer func() {
		for _, f := range far {
			for _, p := range proxies[f] {
				p.SetDelay(farDelay)
			}
		}
	}()
	d := 5 * time.Second
	type phaseResult struct {
		res   *loadResult
		extra float64
		busy  string // the node that served the most shard requests
	}
	phase := func(gw int) phaseResult {
		before := getMesh(t, gw, "").Fetches
		res := load(ctx, objs, gatewayURLs()[gw:gw+1], 4, d)
		after := getMesh(t, gw, "").Fetches
		if res.Failed > 0 {
			t.Fatalf("gateway%d: %s: %v", gw, res, res.Errors[:min(3, len(res.Errors))])
		}
		needed := after.Needed - before.Needed
		out := phaseResult{res: res, extra: float64(after.Launched-before.Launched-needed) / float64(needed)}
		var most int64
		for id, st := range after.Nodes {
			if n := st.Fetches - before.Nodes[id].Fetches; n > most {
				most, out.busy = n, id
			}
		}
		return out
	}
	type row struct {
		name string
		phaseResult
	}
	var rows []row
	var healthy [2]phaseResult
	for _, gw := range []int{0, 1} {
		healthy[gw] = phase(gw)
		rows = append(rows, row{fmt.Sprintf("healthy, %s", hedgeName(gw)), healthy[gw]})
	}
	// Slow down the agent the non-hedging gateway asked most: one agent in
	// ten, and the worst one to lose.
	slow := healthy[1].busy
	proxies[slow][0].SetDelay(200 * time.Millisecond)
	defer proxies[slow][0].SetDelay(0)
	for _, gw := range []int{0, 1} {
		rows = append(rows, row{fmt.Sprintf("%s +200 ms, %s", slow, hedgeName(gw)), phase(gw)})
	}
	fmt.Printf("hedging benchmark (%d objects 0.7-300 KiB, 4 clients, %s per row, cache off):\n", len(objs), d)
	for _, r := range rows {
		fmt.Printf("  %-34s p50 %7s  p99 %8s  extra shard requests %5.1f%%  (%d reads)\n", r.name,
			r.res.pct(0.5).Round(100*time.Microsecond), r.res.pct(0.99).Round(100*time.Microsecond), 100*r.extra, r.res.OK)
	}
	fmt.Printf("  p99 with a slow agent / healthy p99: hedged %.2fx, not hedged %.2fx\n",
		float64(rows[2].res.pct(0.99))/float64(rows[0].res.pct(0.99)), float64(rows[3].res.pct(0.99))/float64(rows[1].res.pct(0.99)))
}

func hedgeName(gw int) string {
	if gw == 0 {
		return "hedged"
	}
	return "not hedged"
}
