package records

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func goodObs(node string) SLAObservation {
	return SLAObservation{Node: node, ProbesSent: 100, ProbesAnswered: 100, LatencySamples: 10, LatencyP50Ms: 20, LatencyP95Ms: 50, Deliveries: 5, DeliveredBytes: 5000}
}

func TestSLAObservationValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*SLAObservation)
		want   string // "" = valid
	}{
		{"good", func(*SLAObservation) {}, ""},
		{"probes only", func(o *SLAObservation) { *o = SLAObservation{Node: o.Node, ProbesSent: 1} }, ""},
		{"bad node", func(o *SLAObservation) { o.Node = "Bad Node" }, "must match"},
		{"negative", func(o *SLAObservation) { o.ShardsFailed = -1 }, "shardsFailed must be in"},
		{"huge", func(o *SLAObservation) { o.Deliveries = MaxSLACount + 1 }, "deliveries must be in"},
		{"answered > sent", func(o *SLAObservation) { o.ProbesAnswered = 101 }, "101 probes answered of 100"},
		{"percentiles without samples", func(o *SLAObservation) { o.LatencySamples = 0 }, "without latency samples"},
		{"p50 > p95", func(o *SLAObservation) { o.LatencyP50Ms = 60 }, "p50 <= p95"},
		{"latency too long", func(o *SLAObservation) { o.LatencyP95Ms = MaxSLALatencyMs + 1 }, "p50 <= p95"},
		{"bytes without deliveries", func(o *SLAObservation) { o.Deliveries = 0 }, "delivered bytes without"},
		{"empty", func(o *SLAObservation) { *o = SLAObservation{Node: o.Node} }, "says nothing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := goodObs("n1-orga")
			c.mutate(&o)
			err := o.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || CodeOf(err) != CodeInvalid || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want INVALID_ARGUMENT containing %q", err, c.want)
			}
		})
	}
}

func TestDecodeSLAAttestationInput(t *testing.T) {
	many := SLAAttestationInput{Epoch: 1}
	for i := range MaxSLAObservations + 1 {
		many.Observations = append(many.Observations, goodObs(fmt.Sprintf("n%05d-orga", i)))
	}
	big, _ := json.Marshal(many)
	cases := []struct {
		name, json, want string
	}{
		{"good", `{"epoch":3,"observations":[{"node":"a-orga","probesSent":2,"probesAnswered":1,"latencySamples":0,"latencyP50Ms":0,"latencyP95Ms":0,"shardsFailed":0,"deliveries":0,"deliveredBytes":0},{"node":"b-orga","probesSent":1,"probesAnswered":1,"latencySamples":0,"latencyP50Ms":0,"latencyP95Ms":0,"shardsFailed":0,"deliveries":0,"deliveredBytes":0}]}`, ""},
		{"empty", ``, "empty"},
		{"unknown field", `{"epoch":3,"observations":[],"score":10000}`, "unknown field"},
		{"trailing", `{"epoch":3,"observations":[{"node":"a-orga","probesSent":1}]} {}`, "trailing"},
		{"no observation", `{"epoch":3,"observations":[]}`, "at least one"},
		{"negative epoch", `{"epoch":-1,"observations":[{"node":"a-orga","probesSent":1}]}`, "negative"},
		{"unsorted", `{"epoch":3,"observations":[{"node":"b-orga","probesSent":1},{"node":"a-orga","probesSent":1}]}`, "sorted"},
		{"duplicate", `{"epoch":3,"observations":[{"node":"a-orga","probesSent":1},{"node":"a-orga","probesSent":1}]}`, "each node once"},
		{"oversize", string(big), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := DecodeSLAAttestationInput([]byte(c.json))
			if c.want == "" {
				if err != nil || len(in.Observations) != 2 {
					t.Fatalf("%v %+v", err, in)
				}
				return
			}
			if err == nil || CodeOf(err) != CodeInvalid || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want INVALID_ARGUMENT containing %q", err, c.want)
			}
		})
	}
}

func TestSLAComponents(t *testing.T) {
	nd := SLANoData
	cases := []struct {
		name string
		o    SLAObservation
		want SLAComponents
	}{
		{"perfect", SLAObservation{ProbesSent: 10, ProbesAnswered: 10, LatencySamples: 1, LatencyP95Ms: 100, Deliveries: 3}, SLAComponents{10000, 10000, 10000}},
		{"nothing measured", SLAObservation{}, SLAComponents{nd, nd, nd}},
		// 90% answered: 1000 bp unavailable × 6.
		{"90% reachable", SLAObservation{ProbesSent: 10, ProbesAnswered: 9}, SLAComponents{4000, nd, nd}},
		{"99% reachable", SLAObservation{ProbesSent: 100, ProbesAnswered: 99}, SLAComponents{9400, nd, nd}},
		{"80% reachable", SLAObservation{ProbesSent: 10, ProbesAnswered: 8}, SLAComponents{0, nd, nd}},
		{"p95 550ms", SLAObservation{LatencySamples: 5, LatencyP95Ms: 550}, SLAComponents{nd, 5000, nd}},
		{"p95 at bad", SLAObservation{LatencySamples: 5, LatencyP95Ms: 1000}, SLAComponents{nd, 0, nd}},
		// 1 failure in 100: 100 bp × 20.
		{"1% failing", SLAObservation{ShardsFailed: 1, Deliveries: 99}, SLAComponents{nd, nd, 8000}},
		{"all failing", SLAObservation{ShardsFailed: 4}, SLAComponents{nd, nd, 0}},
		{"max counts", SLAObservation{ProbesSent: MaxSLACount, ProbesAnswered: MaxSLACount - 1, ShardsFailed: MaxSLACount, Deliveries: MaxSLACount}, SLAComponents{9994, nd, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.o.Components(); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestSLACombineAndMedian(t *testing.T) {
	nd := SLANoData
	for _, c := range []struct {
		c    SLAComponents
		want int64
		ok   bool
	}{
		{SLAComponents{10000, 10000, 10000}, 10000, true},
		{SLAComponents{4000, 10000, 10000}, 7000, true},
		{SLAComponents{4000, nd, nd}, 4000, true},
		{SLAComponents{nd, 5000, 0}, 2500, true},
		{SLAComponents{nd, nd, nd}, 0, false},
	} {
		if got, ok := c.c.Combine(); got != c.want || ok != c.ok {
			t.Fatalf("%s: got %d %v, want %d %v", c.c, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		vals []int64
		want int64
		ok   bool
	}{
		{nil, 0, false},
		{[]int64{5}, 5, true},
		{[]int64{9, 1, 5}, 5, true},
		{[]int64{1, 4}, 2, true},
		{[]int64{10000, 0, 9000, 9500}, 9250, true},
	} {
		if got, ok := SLAMedian(c.vals); got != c.want || ok != c.ok {
			t.Fatalf("median %v: got %d %v, want %d", c.vals, got, ok, c.want)
		}
	}
}

// TestOrgScoreMedianOverAttesters: one attester of an organisation cannot
// swing its organisation's view when two others agree.
func TestOrgScoreMedianOverAttesters(t *testing.T) {
	good := goodObs("n1-orga")
	liar := SLAObservation{Node: "n1-orga", ProbesSent: 100, ProbesAnswered: 0, LatencySamples: 1, LatencyP50Ms: 5000, LatencyP95Ms: 5000, ShardsFailed: 100}
	s, ok := OrgScore(orgBMSP, []SLAObservation{good, liar, good})
	if !ok || s.Score != 10000 || s.Attesters != 3 || s.Components != (SLAComponents{10000, 10000, 10000}) {
		t.Fatalf("got %s", s)
	}
	if _, ok := OrgScore(orgBMSP, nil); ok {
		t.Fatal("an organisation without observations has a view")
	}
}

const orgBMSP = "OrgBMSP"

func TestScoreNodeDecayAndStates(t *testing.T) {
	view := func(score int64) []SLAOrgScore {
		return []SLAOrgScore{{MSP: orgBMSP, Attesters: 1, Components: SLAComponents{score, SLANoData, SLANoData}, Score: score}}
	}
	prev, below := UnscoredSLA("n1-orga"), int64(0)
	type step struct {
		epochScore int64
		score      int64
		state      SLAState
	}
	// From the 8000 prior, an epoch score of 0 each epoch:
	// 8000 → 6000 (warning 1) → 4500 (2) → 3375 (3) → 2531 (penalized).
	// Then full marks: 4398, 5798, 6848 (still penalized), 7636 → ok.
	steps := []step{
		{0, 6000, SLAStateWarning}, {0, 4500, SLAStateWarning}, {0, 3375, SLAStateWarning}, {0, 2531, SLAStatePenalized},
		{10000, 4398, SLAStatePenalized}, {10000, 5798, SLAStatePenalized}, {10000, 6848, SLAStatePenalized}, {10000, 7636, SLAStateOK},
	}
	for i, s := range steps {
		next, b, ok := ScoreNode(prev, below, int64(10+i), view(s.epochScore))
		if !ok || next.Score != s.score || next.State != s.state || next.Epoch != int64(10+i) || b.Score != next.Score || b.Previous != prev.Score {
			t.Fatalf("step %d: got %s (breakdown %s), want %d %s", i, next, b, s.score, s.state)
		}
		prev, below = next, b.Below
	}
	if _, _, ok := ScoreNode(prev, below, 99, nil); ok {
		t.Fatal("scored without any view")
	}
}

// TestScoreNodeMedianResistsOneLiar: with three attesting organisations,
// one reporting 0 (or 10000) leaves the epoch score between the honest
// ones.
func TestScoreNodeMedianResistsOneLiar(t *testing.T) {
	org := func(msp string, s int64) SLAOrgScore {
		return SLAOrgScore{MSP: msp, Attesters: 1, Components: SLAComponents{s, SLANoData, SLANoData}, Score: s}
	}
	for _, c := range []struct {
		name string
		orgs []SLAOrgScore
		want int64
	}{
		{"liar sinks", []SLAOrgScore{org("B", 9000), org("C", 0), org("D", 9200)}, 9000},
		{"liar lifts", []SLAOrgScore{org("B", 2000), org("C", 10000), org("D", 2200)}, 2200},
		{"honest", []SLAOrgScore{org("B", 9000), org("C", 9100), org("D", 9200)}, 9100},
	} {
		_, b, ok := ScoreNode(UnscoredSLA("n1-orga"), 0, 1, c.orgs)
		if !ok || b.EpochScore != c.want {
			t.Fatalf("%s: epoch score %d, want %d", c.name, b.EpochScore, c.want)
		}
	}
}

func TestSLAScoreValidate(t *testing.T) {
	for _, c := range []struct {
		s  SLAScore
		ok bool
	}{
		{UnscoredSLA("n1-orga"), true},
		{SLAScore{Node: "n1-orga", Score: 10001, State: SLAStateOK}, false},
		{SLAScore{Node: "n1-orga", Score: 10, State: "bad"}, false},
		{SLAScore{Node: "", Score: 10, State: SLAStateOK}, false},
	} {
		if err := c.s.Validate(); (err == nil) != c.ok {
			t.Fatalf("%s: %v", c.s, err)
		}
	}
	if k, err := SLAAttestationKey(3, "OrgAMSP", strings.Repeat("ab", 32)); err != nil || !strings.Contains(k, EpochPad(3)) {
		t.Fatalf("%q %v", k, err)
	}
	if _, err := SLAAttestationKey(-1, "OrgAMSP", strings.Repeat("ab", 32)); err == nil {
		t.Fatal("negative epoch")
	}
}

// TestSLANinetyPercentDetected: a node answering 90% of probes, with
// perfect latency and integrity, scores 7000 an epoch and falls below
// SLAWarnBelow at its third scored epoch (7750, 7562, 7421), penalized
// at its sixth.
func TestSLANinetyPercentDetected(t *testing.T) {
	o := SLAObservation{Node: "n1-orga", ProbesSent: 100, ProbesAnswered: 90, LatencySamples: 10, LatencyP50Ms: 10, LatencyP95Ms: 20, Deliveries: 10}
	v, ok := OrgScore(orgBMSP, []SLAObservation{o})
	if !ok || v.Score != 7000 {
		t.Fatalf("org view %s", v)
	}
	prev, below := UnscoredSLA("n1-orga"), int64(0)
	var warnedAt, penalizedAt int
	for i := 1; i <= 10 && penalizedAt == 0; i++ {
		next, b, _ := ScoreNode(prev, below, int64(i), []SLAOrgScore{v})
		if next.State == SLAStateWarning && warnedAt == 0 {
			warnedAt = i
		}
		if next.State == SLAStatePenalized {
			penalizedAt = i
		}
		prev, below = next, b.Below
	}
	if warnedAt != 3 || penalizedAt != 6 {
		t.Fatalf("warned at epoch %d, penalized at %d; want 3 and 6", warnedAt, penalizedAt)
	}
}
