package records

// SLA scores (issue 11). A node's score is computed by the chaincode from
// the attesting organisations' per-epoch observations and stored under
// SLAScoreKey(node); the auction's clearing and the gateways' routing and
// placement read it. This file holds the part both sides share; the
// attestation records and the scoring formula live beside it.

// SLAScoreKeyType is the composite key object type of a node's current
// score; the attribute is [node].
const SLAScoreKeyType = "dct.sla.score"

// Score bounds: a score is an integer in basis points, 0..MaxSLAScore.
// A node nobody has attested yet is scored UnscoredSLAScore.
const (
	MaxSLAScore      int64 = 10_000
	UnscoredSLAScore int64 = 8_000
)

// SLAState is where a node stands with respect to its score.
type SLAState string

// SLA states: unscored (no attestation yet), ok, warning (below the warning
// threshold, inside the grace period: no penalty yet) and penalized (below
// the threshold after the grace period: contracts with a floor above the
// score are re-auctioned).
const (
	SLAStateUnscored  SLAState = "unscored"
	SLAStateOK        SLAState = "ok"
	SLAStateWarning   SLAState = "warning"
	SLAStatePenalized SLAState = "penalized"
)

// String returns the state text.
func (s SLAState) String() string { return string(s) }

// Valid reports whether s is a defined state.
func (s SLAState) Valid() bool {
	switch s {
	case SLAStateUnscored, SLAStateOK, SLAStateWarning, SLAStatePenalized:
		return true
	}
	return false
}

// SLAScore is a node's current score, stored under SLAScoreKey(node).
// Score is in basis points (0..MaxSLAScore); Epoch is the last epoch that
// changed it.
type SLAScore struct {
	Node  string   `json:"node"`
	Epoch int64    `json:"epoch"`
	Score int64    `json:"score"`
	State SLAState `json:"state"`
}

// SLAScoreKey returns the ledger key of a node's score, after checking the
// node id.
func SLAScoreKey(node string) (string, error) {
	if err := ValidateNodeID(node); err != nil {
		return "", err
	}
	return CompositeKey(SLAScoreKeyType, node)
}

// UnscoredSLA is the score of a node nobody has attested yet.
func UnscoredSLA(node string) SLAScore {
	return SLAScore{Node: node, Score: UnscoredSLAScore, State: SLAStateUnscored}
}
