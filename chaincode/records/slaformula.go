package records

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// The SLA scoring formula. Everything is integer arithmetic in basis
// points (0..10000), so every endorser and every auditor recomputing a
// score from the stored attestations gets the same result.
//
// 1. Components of one observation (SLANoData when it has no figure):
//
//	reach     = clamp(10000 − SLAReachSlope × (10000 − answered×10000/sent))
//	latency   = 10000 at p95 ≤ SLALatencyGoodMs, 0 at p95 ≥ SLALatencyBadMs,
//	            linear in between: 10000×(bad − p95)/(bad − good)
//	integrity = clamp(10000 − SLAIntegritySlope × failed×10000/(failed+deliveries))
//
// 2. An organisation's component is the median of its attesters' values
// (attesters without the figure left out); its score is the weighted mean
// of the components it has: Σ wᶜ×vᶜ / Σ wᶜ (weights SLAWeightReach,
// SLAWeightLatency, SLAWeightIntegrity).
//
// 3. The node's epoch score is the median of the organisations' scores,
// the node's own organisation excluded (it can neither lift nor sink its
// own node; a node observed only by its own organisation is not scored
// that epoch). With three or more attesting organisations one lying
// organisation moves the median at most to the value of an honest one.
//
// 4. The score is an exponentially weighted moving average:
// score = (SLAEWMANew×epochScore + (SLAEWMADen−SLAEWMANew)×previous) /
// SLAEWMADen, starting from UnscoredSLAScore; epochs without attestations
// leave it unchanged.
//
// 5. State: ok at score ≥ SLAWarnBelow; below it, warning for the first
// SLAGraceEpochs scored epochs in a row, then penalized; back to ok as
// soon as a scored epoch lifts the score to SLAWarnBelow or more.
const (
	SLAReachSlope      int64 = 6
	SLALatencyGoodMs   int64 = 100
	SLALatencyBadMs    int64 = 1000
	SLAIntegritySlope  int64 = 20
	SLAWeightReach     int64 = 50
	SLAWeightLatency   int64 = 25
	SLAWeightIntegrity int64 = 25
	SLAEWMANew         int64 = 1
	SLAEWMADen         int64 = 4
	SLAWarnBelow       int64 = 7500
	SLAGraceEpochs     int64 = 3
)

// SLANoData marks a component without any figure.
const SLANoData int64 = -1

// SLAComponents are the three components of a score, each in basis
// points or SLANoData.
type SLAComponents struct {
	Reach     int64 `json:"reach"`
	Latency   int64 `json:"latency"`
	Integrity int64 `json:"integrity"`
}

// String is "reach r latency l integrity i" ("-" for no data).
func (c SLAComponents) String() string {
	f := func(v int64) string {
		if v == SLANoData {
			return "-"
		}
		return strconv.FormatInt(v, 10)
	}
	return "reach " + f(c.Reach) + " latency " + f(c.Latency) + " integrity " + f(c.Integrity)
}

func clampBP(v int64) int64 { return min(max(v, 0), MaxSLAScore) }

// Components computes the components of one observation (step 1).
func (o *SLAObservation) Components() SLAComponents {
	c := SLAComponents{Reach: SLANoData, Latency: SLANoData, Integrity: SLANoData}
	if o.ProbesSent > 0 {
		avail := o.ProbesAnswered * MaxSLAScore / o.ProbesSent
		c.Reach = clampBP(MaxSLAScore - SLAReachSlope*(MaxSLAScore-avail))
	}
	if o.LatencySamples > 0 {
		switch p := o.LatencyP95Ms; {
		case p <= SLALatencyGoodMs:
			c.Latency = MaxSLAScore
		case p >= SLALatencyBadMs:
			c.Latency = 0
		default:
			c.Latency = MaxSLAScore * (SLALatencyBadMs - p) / (SLALatencyBadMs - SLALatencyGoodMs)
		}
	}
	if n := o.ShardsFailed + o.Deliveries; n > 0 {
		c.Integrity = clampBP(MaxSLAScore - SLAIntegritySlope*(o.ShardsFailed*MaxSLAScore/n))
	}
	return c
}

// Combine is the weighted mean of the components c has (step 2); false
// when it has none.
func (c SLAComponents) Combine() (int64, bool) {
	var sum, weights int64
	for _, p := range []struct{ v, w int64 }{{c.Reach, SLAWeightReach}, {c.Latency, SLAWeightLatency}, {c.Integrity, SLAWeightIntegrity}} {
		if p.v == SLANoData {
			continue
		}
		sum += p.v * p.w
		weights += p.w
	}
	if weights == 0 {
		return 0, false
	}
	return sum / weights, true
}

// SLAMedian is the median of vals (the mean of the two middle values,
// rounded down, for an even count); false for none. vals is not changed.
func SLAMedian(vals []int64) (int64, bool) {
	if len(vals) == 0 {
		return 0, false
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// SLAOrgScore is one organisation's view of a node in an epoch: how many
// of its attesters observed it, the median of their components and the
// weighted mean of those.
type SLAOrgScore struct {
	MSP        string        `json:"msp"`
	Attesters  int           `json:"attesters"`
	Components SLAComponents `json:"components"`
	Score      int64         `json:"score"`
}

// String is "msp: score (components, n attesters)".
func (s SLAOrgScore) String() string {
	return fmt.Sprintf("%s: %d (%s, %d attesters)", s.MSP, s.Score, s.Components, s.Attesters)
}

// OrgScore computes organisation msp's view of a node from its attesters'
// observations of it (step 2); false when none has a figure.
func OrgScore(msp string, obs []SLAObservation) (SLAOrgScore, bool) {
	var reach, lat, integ []int64
	for i := range obs {
		c := obs[i].Components()
		if c.Reach != SLANoData {
			reach = append(reach, c.Reach)
		}
		if c.Latency != SLANoData {
			lat = append(lat, c.Latency)
		}
		if c.Integrity != SLANoData {
			integ = append(integ, c.Integrity)
		}
	}
	med := func(v []int64) int64 {
		if m, ok := SLAMedian(v); ok {
			return m
		}
		return SLANoData
	}
	s := SLAOrgScore{MSP: msp, Attesters: len(obs), Components: SLAComponents{Reach: med(reach), Latency: med(lat), Integrity: med(integ)}}
	score, ok := s.Components.Combine()
	if !ok {
		return SLAOrgScore{}, false
	}
	s.Score = score
	return s, true
}

// SLANodeViews computes the organisations' views of a node owned by org
// from their attesters' observations of it in an epoch, by MSP id (step 2,
// the owner's own observations left out), sorted by MSP id: what
// sla:Score passes to ScoreNode, and what an auditor recomputes.
func SLANodeViews(org string, byMSP map[string][]SLAObservation) []SLAOrgScore {
	var views []SLAOrgScore
	for _, msp := range slices.Sorted(maps.Keys(byMSP)) {
		if msp == org {
			continue // a node's own organisation does not score it
		}
		if v, ok := OrgScore(msp, byMSP[msp]); ok {
			views = append(views, v)
		}
	}
	return views
}

// SLABreakdown is how a node's latest score was computed, stored under
// SLABreakdownKeyType [node] by every sla:Score that changes it (its
// history is the node's full scoring record).
type SLABreakdown struct {
	Node string `json:"node"`
	// Org owns the node: its observations were left out.
	Org   string `json:"org"`
	Epoch int64  `json:"epoch"`
	// Orgs are the attesting organisations' views, by MSP id; Median is
	// the median over them of each component (for reading; the score
	// uses the median of their scores, EpochScore).
	Orgs       []SLAOrgScore `json:"orgs"`
	Median     SLAComponents `json:"median"`
	EpochScore int64         `json:"epochScore"`
	// Previous and PreviousState: the score before this epoch; Score and
	// State after it; Below counts the scored epochs in a row below
	// SLAWarnBelow.
	Previous      int64    `json:"previous"`
	PreviousState SLAState `json:"previousState"`
	Score         int64    `json:"score"`
	State         SLAState `json:"state"`
	Below         int64    `json:"below"`
	ScoredAt      string   `json:"scoredAt"`
	TxID          string   `json:"txId"`
}

// String is "node@epoch: epoch score → score (state)".
func (b *SLABreakdown) String() string {
	return fmt.Sprintf("%s@%d: epoch score %d, %d → %d (%s)", b.Node, b.Epoch, b.EpochScore, b.Previous, b.Score, b.State)
}

// SLABreakdownKey returns the ledger key of a node's latest breakdown.
func SLABreakdownKey(node string) (string, error) {
	if err := ValidateNodeID(node); err != nil {
		return "", err
	}
	return CompositeKey(SLABreakdownKeyType, node)
}

// ScoreNode applies steps 3 to 5: the node's views by organisation (its
// own organisation's already left out), its previous score and the number
// of scored epochs in a row it was below SLAWarnBelow. False when no
// organisation has a view.
func ScoreNode(prev SLAScore, prevBelow int64, epoch int64, orgs []SLAOrgScore) (SLAScore, *SLABreakdown, bool) {
	if len(orgs) == 0 {
		return prev, nil, false
	}
	scores := make([]int64, 0, len(orgs))
	var reach, lat, integ []int64
	for _, o := range orgs {
		scores = append(scores, o.Score)
		if o.Components.Reach != SLANoData {
			reach = append(reach, o.Components.Reach)
		}
		if o.Components.Latency != SLANoData {
			lat = append(lat, o.Components.Latency)
		}
		if o.Components.Integrity != SLANoData {
			integ = append(integ, o.Components.Integrity)
		}
	}
	med := func(v []int64) int64 {
		if m, ok := SLAMedian(v); ok {
			return m
		}
		return SLANoData
	}
	epochScore, _ := SLAMedian(scores)
	old := prev.Score
	if prev.State == SLAStateUnscored || prev.State == "" {
		old = UnscoredSLAScore
	}
	score := clampBP((SLAEWMANew*epochScore + (SLAEWMADen-SLAEWMANew)*old) / SLAEWMADen)
	next := SLAScore{Node: prev.Node, Epoch: epoch, Score: score, State: SLAStateOK}
	below := int64(0)
	if score < SLAWarnBelow {
		below = prevBelow + 1
		next.State = SLAStateWarning
		if below > SLAGraceEpochs {
			next.State = SLAStatePenalized
		}
	}
	b := &SLABreakdown{
		Node: prev.Node, Epoch: epoch, Orgs: orgs,
		Median:     SLAComponents{Reach: med(reach), Latency: med(lat), Integrity: med(integ)},
		EpochScore: epochScore, Previous: old, PreviousState: prevStateOf(prev),
		Score: score, State: next.State, Below: below,
	}
	return next, b, true
}

func prevStateOf(s SLAScore) SLAState {
	if s.State == "" {
		return SLAStateUnscored
	}
	return s.State
}

// Validate checks a score's node, bounds and state.
func (s *SLAScore) Validate() error {
	if err := ValidateNodeID(s.Node); err != nil {
		return err
	}
	if s.Score < 0 || s.Score > MaxSLAScore || s.Epoch < 0 {
		return invalidf("score of %s: %d must be in 0..%d, epoch %d not negative", s.Node, s.Score, MaxSLAScore, s.Epoch)
	}
	if !s.State.Valid() {
		return invalidf("score of %s: unknown state %s", s.Node, quote(string(s.State)))
	}
	return nil
}

// String is "node: score (state, epoch e)".
func (s SLAScore) String() string {
	return fmt.Sprintf("%s: %d (%s, epoch %d)", s.Node, s.Score, s.State, s.Epoch)
}
