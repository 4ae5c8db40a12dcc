package records

import (
	"fmt"
	"slices"
)

// SLA attestations (issue 11): an attester (a gateway or an edge agent of
// a member organisation) reports, once per epoch, what it observed of each
// node it dealt with. The chaincode stores each attestation under its own
// key and scores the nodes from them once the epoch has closed (sla.go,
// slaformula.go).

// Composite key object types of the SLA records: an attestation
// [epoch as 20 decimal digits, attesterMsp, attester certificate hash], the
// scoring of an epoch [epoch as 20 decimal digits] (SLAEpoch) and a node's
// latest score breakdown [node] (SLABreakdown).
const (
	SLAAttestationKeyType = "dct.sla.attest"
	SLAEpochKeyType       = "dct.sla.epoch"
	SLABreakdownKeyType   = "dct.sla.breakdown"
)

// SLAEventName is the chaincode event sla:Score sets (payload: the
// SLAEpoch as JSON): gateways refresh their score tables on it.
const SLAEventName = "dct.sla"

// Bounds of an attestation, so that one stays a small transaction and
// scoring an epoch stays bounded.
const (
	// MaxSLAObservations is the most nodes one attestation may observe.
	MaxSLAObservations = 1000
	// MaxSLACount bounds every counter of an observation (probes,
	// shards, deliveries): far above what an epoch allows, low enough
	// that the formula's products never overflow.
	MaxSLACount int64 = 1 << 40
	// MaxSLALatencyMs bounds a latency percentile (one hour).
	MaxSLALatencyMs int64 = 3_600_000
	// SLAAttestEpochs: an attestation of epoch e is accepted while the
	// current epoch is e .. e+SLAAttestEpochs and e is not scored yet.
	SLAAttestEpochs int64 = 2
	// MaxSLAAttestersPerOrg: sla:Score counts at most this many
	// attestations of one organisation in an epoch (the first by
	// certificate hash), so that scoring stays bounded however many
	// identities an organisation grants (they would only add attesters
	// to its own median anyway).
	MaxSLAAttestersPerOrg = 100
)

// SLAObservation is what one attester saw of one node during an epoch.
// Every figure is optional (zero: not observed), but an observation must
// say something.
type SLAObservation struct {
	Node string `json:"node"`
	// ProbesSent and ProbesAnswered: reachability (mesh probes, health
	// checks, shard requests that got an answer).
	ProbesSent     int64 `json:"probesSent"`
	ProbesAnswered int64 `json:"probesAnswered"`
	// LatencySamples round trips measured, with their median and 95th
	// percentile in milliseconds (zero samples: no latency figure).
	LatencySamples int64 `json:"latencySamples"`
	LatencyP50Ms   int64 `json:"latencyP50Ms"`
	LatencyP95Ms   int64 `json:"latencyP95Ms"`
	// ShardsFailed: shards the node served that failed verification (or
	// that it was listed for and did not have); Deliveries and
	// DeliveredBytes: shards it delivered that verified (the receipts).
	ShardsFailed   int64 `json:"shardsFailed"`
	Deliveries     int64 `json:"deliveries"`
	DeliveredBytes int64 `json:"deliveredBytes"`
}

// Validate checks the node id and the figures' bounds and consistency.
func (o *SLAObservation) Validate() error {
	if err := ValidateNodeID(o.Node); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"probesSent", o.ProbesSent}, {"probesAnswered", o.ProbesAnswered}, {"latencySamples", o.LatencySamples},
		{"shardsFailed", o.ShardsFailed}, {"deliveries", o.Deliveries}, {"deliveredBytes", o.DeliveredBytes}} {
		if f.v < 0 || f.v > MaxSLACount {
			return invalidf("observation of %s: %s must be in 0..%d, got %d", o.Node, f.name, MaxSLACount, f.v)
		}
	}
	switch {
	case o.ProbesAnswered > o.ProbesSent:
		return invalidf("observation of %s: %d probes answered of %d sent", o.Node, o.ProbesAnswered, o.ProbesSent)
	case o.LatencySamples == 0 && (o.LatencyP50Ms != 0 || o.LatencyP95Ms != 0):
		return invalidf("observation of %s: latency percentiles without latency samples", o.Node)
	case o.LatencyP50Ms < 0 || o.LatencyP95Ms > MaxSLALatencyMs || o.LatencyP50Ms > o.LatencyP95Ms:
		return invalidf("observation of %s: latency p50 %d ms and p95 %d ms must satisfy 0 <= p50 <= p95 <= %d", o.Node, o.LatencyP50Ms, o.LatencyP95Ms, MaxSLALatencyMs)
	case o.Deliveries == 0 && o.DeliveredBytes != 0:
		return invalidf("observation of %s: delivered bytes without deliveries", o.Node)
	case o.ProbesSent == 0 && o.LatencySamples == 0 && o.ShardsFailed == 0 && o.Deliveries == 0:
		return invalidf("observation of %s says nothing: no probe, latency, failure or delivery", o.Node)
	}
	return nil
}

// String is "node: answered/sent probes, p50/p95 ms, failed/delivered".
func (o SLAObservation) String() string {
	return fmt.Sprintf("%s: %d/%d probes, p50 %d p95 %d ms (%d samples), %d failed, %d delivered (%d bytes)",
		o.Node, o.ProbesAnswered, o.ProbesSent, o.LatencyP50Ms, o.LatencyP95Ms, o.LatencySamples, o.ShardsFailed, o.Deliveries, o.DeliveredBytes)
}

// SLAAttestationInput is what an attester submits with sla:Attest: the
// epoch and its observations, one per node, sorted by node id.
type SLAAttestationInput struct {
	Epoch        int64            `json:"epoch"`
	Observations []SLAObservation `json:"observations"`
}

// Validate checks the epoch, the number of observations and each of them,
// and that nodes are in strictly increasing order (one observation each).
func (in *SLAAttestationInput) Validate() error {
	if in.Epoch < 0 {
		return invalidf("epoch must not be negative, got %d", in.Epoch)
	}
	if len(in.Observations) == 0 {
		return invalidf("an attestation needs at least one observation")
	}
	if len(in.Observations) > MaxSLAObservations {
		return invalidf("an attestation has at most %d observations, got %d", MaxSLAObservations, len(in.Observations))
	}
	for i := range in.Observations {
		if err := in.Observations[i].Validate(); err != nil {
			return err
		}
		if i > 0 && in.Observations[i-1].Node >= in.Observations[i].Node {
			return invalidf("observations must be sorted by node id, each node once: %s follows %s", quote(in.Observations[i].Node), quote(in.Observations[i-1].Node))
		}
	}
	return nil
}

// String is "epoch e: n observations".
func (in SLAAttestationInput) String() string {
	return fmt.Sprintf("epoch %d: %d observations", in.Epoch, len(in.Observations))
}

// DecodeSLAAttestationInput decodes caller JSON, refusing unknown fields
// and trailing data, and validates it.
func DecodeSLAAttestationInput(data []byte) (*SLAAttestationInput, error) {
	if len(data) > maxSLAInputBytes {
		return nil, invalidf("attestation JSON is %d bytes, at most %d", len(data), maxSLAInputBytes)
	}
	var in SLAAttestationInput
	if err := decodeStrict(data, &in, "attestation"); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &in, nil
}

// maxSLAInputBytes bounds an attestation's JSON: MaxSLAObservations
// observations of a few hundred bytes each.
const maxSLAInputBytes = MaxSLAObservations * 512

// SLAAttestation is a stored attestation, under SLAAttestationKeyType
// [EpochPad(epoch), attesterMsp, attester].
type SLAAttestation struct {
	Epoch int64 `json:"epoch"`
	// AttesterMSP and Attester (certificate hash) identify the submitter;
	// AttesterNode is its node id when it is an edge agent's identity.
	AttesterMSP  string           `json:"attesterMsp"`
	Attester     string           `json:"attester"`
	AttesterNode string           `json:"attesterNode,omitempty" metadata:",optional"`
	Observations []SLAObservation `json:"observations"`
	SubmittedAt  string           `json:"submittedAt"`
	TxID         string           `json:"txId"`
}

// SameContent reports whether in is what a was made of (a resubmission).
func (a *SLAAttestation) SameContent(in *SLAAttestationInput) bool {
	return a.Epoch == in.Epoch && slices.Equal(a.Observations, in.Observations)
}

// String is "attestation of msp/cert for epoch e".
func (a *SLAAttestation) String() string {
	return fmt.Sprintf("attestation of %s/%s for epoch %d (%d observations)", a.AttesterMSP, a.Attester, a.Epoch, len(a.Observations))
}

// SLAAttestationKey returns the ledger key of an attestation.
func SLAAttestationKey(epoch int64, mspID, certHash string) (string, error) {
	if epoch < 0 {
		return "", invalidf("epoch must not be negative, got %d", epoch)
	}
	if err := ValidateMSPID("attesterMsp", mspID); err != nil {
		return "", err
	}
	if err := validateSHA256Hex("attester", certHash); err != nil {
		return "", err
	}
	return CompositeKey(SLAAttestationKeyType, EpochPad(epoch), mspID, certHash)
}

// SLAEpoch records that an epoch was scored (sla:Score): once it exists,
// no attestation of the epoch is accepted, so the scores can be recomputed
// from the attestations stored.
type SLAEpoch struct {
	Epoch int64 `json:"epoch"`
	// Attestations is the number counted (at most MaxSLAAttestersPerOrg
	// per organisation; Ignored the others); Nodes lists the nodes whose score
	// this epoch changed, Skipped those observed but left alone (scored
	// for a later epoch already, or observed by their own organisation
	// only, or not registered).
	Attestations int      `json:"attestations"`
	Ignored      int      `json:"ignored"`
	Nodes        []string `json:"nodes"`
	Skipped      []string `json:"skipped"`
	ScoredAt     string   `json:"scoredAt"`
	TxID         string   `json:"txId"`
}

// String is "epoch e scored: n nodes".
func (e *SLAEpoch) String() string {
	return fmt.Sprintf("epoch %d scored: %d nodes from %d attestations", e.Epoch, len(e.Nodes), e.Attestations)
}
