//go:build bench

package bench

import (
	"fmt"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
)

// TestSLADetection prints how many scored epochs the chaincode's formula
// (records: OrgScore, ScoreNode) takes to warn and to penalize a node that
// answers a given share of probes, with perfect latency and integrity,
// from the unscored prior, seen alike by two attesting organisations. The
// issue sets no target for it, so each is a figure ("—"). The 90% row is
// the issue's "how many epochs a node at 90% availability takes to be
// detected" and is checked (warned at the third, penalized at the sixth).
func TestSLADetection(t *testing.T) {
	for _, pct := range []int64{100, 99, 97, 95, 90, 80, 50, 0} {
		// Every answered probe is a fast round trip and a verified
		// delivery: a dead node has no latency or delivery figure.
		o := records.SLAObservation{Node: "n1-orga", ProbesSent: 1000, ProbesAnswered: pct * 10, Deliveries: pct * 10}
		if pct > 0 {
			o.LatencySamples, o.LatencyP50Ms, o.LatencyP95Ms = pct*10, 10, 40
		}
		v, ok := records.OrgScore("OrgBMSP", []records.SLAObservation{o})
		if !ok {
			t.Fatal("no view")
		}
		views := []records.SLAOrgScore{v, {MSP: "OrgCMSP", Attesters: v.Attesters, Components: v.Components, Score: v.Score}}
		prev, below := records.UnscoredSLA(o.Node), int64(0)
		warned, penalized := 0, 0
		var trail []int64
		for e := 1; e <= 50 && penalized == 0; e++ {
			next, b, _ := records.ScoreNode(prev, below, int64(e), views)
			if next.State != records.SLAStateOK && warned == 0 {
				warned = e
			}
			if next.State == records.SLAStatePenalized {
				penalized = e
			}
			if e <= 6 {
				trail = append(trail, next.Score)
			}
			prev, below = next, b.Below
		}
		epochs := func(n int) string {
			if n == 0 {
				return "never (50 epochs)"
			}
			return fmt.Sprintf("scored epoch %d (%d s)", n, int64(n)*records.DefaultEpochSeconds)
		}
		report(t, fmt.Sprintf("SLA detection of a node answering %d%% of probes (epoch score %d)", pct, v.Score), "—",
			fmt.Sprintf("warned at %s, penalized at %s; scores %v", epochs(warned), epochs(penalized), trail), Info)
		if pct == 90 && (warned != 3 || penalized != 6) {
			t.Errorf("90%%: warned at %d, penalized at %d; want 3 and 6", warned, penalized)
		}
	}
}
