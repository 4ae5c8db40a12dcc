package records

import (
	"fmt"
	"math"
	"time"
)

// Delivery batches on the ledger (the delivery contract). A gateway
// commits a batch (delivery:Commit) and then proves it (delivery:Prove)
// with the leaves SampleIndices picks from the Commit transaction's id,
// which the gateway learns only when the Commit is built: the chaincode
// cannot let a client choose its arguments after it knows its own
// transaction id, hence two transactions (commit, then reveal).

// Epochs. An epoch is S seconds long: the epoch of a time t is
// floor(unix(t) / S). S is the ledger's epoch setting (EpochSetting,
// delivery:SetEpochLength), DefaultEpochSeconds until an admin sets it,
// which is allowed once and only before any record that names an epoch
// exists. A batch of epoch e may be committed and proved while the
// current epoch is e .. e+SubmissionEpochs; afterwards it has expired (a
// pending batch is then never paid). SubmissionEpochs is a chaincode
// constant: changing it needs a chaincode upgrade, which every member
// endorses.
const (
	DefaultEpochSeconds int64 = 60
	SubmissionEpochs    int64 = 60
)

// Composite key object types of the delivery records: batches [id], the
// batch of a gateway per epoch [gatewayMsp, gateway, epoch as 20 decimal
// digits] (its value is the batch id), the serials of receipts paid
// [gateway, serial], and the bytes counted against a node's capacity in
// an epoch [node, epoch as 20 decimal digits] (NodeEpoch).
const (
	BatchKeyType      = "dct.batch"
	BatchEpochKeyType = "dct.batchepoch"
	SerialKeyType     = "dct.serial"
	NodeEpochKeyType  = "dct.nodeepoch"
)

// epochLen is seconds, or DefaultEpochSeconds when seconds is not
// positive (an unset setting).
func epochLen(seconds int64) int64 {
	if seconds <= 0 {
		return DefaultEpochSeconds
	}
	return seconds
}

// EpochOf returns the epoch of t with epochs of seconds (the ledger's
// setting; DefaultEpochSeconds when not positive).
func EpochOf(t time.Time, seconds int64) int64 {
	n := epochLen(seconds)
	s := t.Unix()
	e := s / n
	if s < 0 && s%n != 0 {
		e--
	}
	return e
}

// EpochStart returns the first instant of epoch e with epochs of seconds
// (DefaultEpochSeconds when not positive).
func EpochStart(e, seconds int64) time.Time {
	return time.Unix(e*epochLen(seconds), 0).UTC()
}

// EpochPad formats an epoch for a composite key, so that keys sort by
// epoch.
func EpochPad(e int64) string { return fmt.Sprintf("%020d", e) }

// EpochInfo is what delivery:Epoch returns.
type EpochInfo struct {
	// Epoch is the current epoch (of the transaction's timestamp).
	Epoch int64 `json:"epoch"`
	// Seconds is the epoch length, Window the number of previous epochs a
	// batch may still be submitted for (SubmissionEpochs).
	Seconds int64 `json:"seconds"`
	Window  int64 `json:"window"`
	// Start and End bound the current epoch (TimestampLayout; End
	// excluded).
	Start string `json:"start"`
	End   string `json:"end"`
}

// BatchStatus is the state of a batch.
type BatchStatus string

// Batch states: committed and waiting for its proof, or proved and paid.
// A batch whose proof fails stays pending (the failed Prove changes
// nothing) and expires with its submission window.
const (
	BatchPending  BatchStatus = "pending"
	BatchAccepted BatchStatus = "accepted"
)

// Exclusion reasons of a sampled receipt that is not paid.
const (
	ExcludedReplayed   = "replayed"
	ExcludedUnassigned = "unassigned"
	ExcludedInactive   = "inactive"
	ExcludedShardHash  = "shard hash"
	ExcludedManifest   = "manifest"
	// ExcludedDuplicate: a sampled receipt naming the same delivery
	// (request, object, version, shard, offset) as an earlier sampled
	// receipt of the batch, under another serial.
	ExcludedDuplicate = "duplicate-delivery"
	// ExcludedContractEnded: the node's storage contract for the shard
	// ended (a re-auction replaced it, Holding.EndedAt) at or before the
	// start of the receipt's epoch.
	ExcludedContractEnded = "contract-ended"
)

// Reasons bytes of an accepted total are cut (not paid).
const (
	// CappedNodeCapacity: the node's accepted bytes of the epoch, over
	// every gateway's batches, would exceed NodeEpochCapacity of its
	// registered bandwidth.
	CappedNodeCapacity = "node-capacity"
	// CappedPublisherBudget: paying them would exceed the publisher's
	// budget for the epoch (token:SetBudget).
	CappedPublisherBudget = "publisher-budget"
)

// Capped is a part of an accepted total that is not paid: Bytes of
// Node's deliveries of Publisher's content, cut for Reason (one of the
// Capped… constants).
type Capped struct {
	Node      string `json:"node"`
	Publisher string `json:"publisher"`
	Bytes     int64  `json:"bytes"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
}

// NodeEpochCapacity is the most a node with bandwidthBps (bits per
// second) can deliver in one epoch of seconds: bandwidthBps / 8 × seconds
// bytes (saturating at the largest int64; DefaultEpochSeconds when seconds
// is not positive).
func NodeEpochCapacity(bandwidthBps, seconds int64) int64 {
	if bandwidthBps <= 0 {
		return 0
	}
	n := epochLen(seconds)
	perSecond := bandwidthBps / 8
	if perSecond > math.MaxInt64/n {
		return math.MaxInt64
	}
	return perSecond * n
}

// NodeEpoch counts, for one node and epoch, the bytes the accepted batches
// of every gateway claim the node delivered within its capacity and the
// bytes cut above it; stored under NodeEpochKeyType [node, EpochPad].
type NodeEpoch struct {
	Node  string `json:"node"`
	Epoch int64  `json:"epoch"`
	// CapacityBytes is NodeEpochCapacity of the highest bandwidth the node
	// had registered while active during the epoch (0: never active).
	CapacityBytes int64 `json:"capacityBytes"`
	// Bytes are counted against the capacity (whether or not the
	// publisher's budget then paid them); CappedBytes were cut above it.
	Bytes       int64 `json:"bytes"`
	CappedBytes int64 `json:"cappedBytes"`
	// Batches is the number of accepted batches that counted the node.
	Batches   int64  `json:"batches"`
	UpdatedAt string `json:"updatedAt,omitempty" metadata:",optional"`
	LastTxID  string `json:"lastTxId,omitempty" metadata:",optional"`
}

// Excluded is a sampled receipt the chaincode does not pay: its bytes are
// subtracted from its node's total.
type Excluded struct {
	Index     int64  `json:"index"`
	Serial    string `json:"serial"`
	Node      string `json:"node"`
	Publisher string `json:"publisher"`
	Bytes     int64  `json:"bytes"`
	// Reason is one of the Excluded… constants; Detail says why.
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// Batch is a gateway's batch of receipts for one epoch, stored under
// BatchKeyType [ID].
type Batch struct {
	// ID is the id of the Commit transaction (the seed of SampleIndices).
	ID string `json:"id"`
	// GatewayMSP and Gateway are the committing gateway's organisation and
	// certificate hash.
	GatewayMSP string `json:"gatewayMsp"`
	Gateway    string `json:"gateway"`
	Epoch      int64  `json:"epoch"`
	Root       string `json:"root"`
	Size       int64  `json:"size"`
	// Totals are the totals the gateway committed.
	Totals []NodeTotal `json:"totals"`
	Status BatchStatus `json:"status"`
	// CommittedAt is the Commit transaction's timestamp.
	CommittedAt string `json:"committedAt"`
	// Sampled are the leaf indices checked (SampleIndices(ID, Size)).
	Sampled []int64 `json:"sampled,omitempty" metadata:",optional"`
	// Accepted are the totals paid: Totals less the excluded receipts and
	// the capped bytes (Receipts still counts the receipts not excluded).
	Accepted []NodeTotal `json:"accepted,omitempty" metadata:",optional"`
	// Excluded are the sampled receipts not paid.
	Excluded []Excluded `json:"excluded,omitempty" metadata:",optional"`
	// Capped are the bytes of accepted totals cut by the node's capacity
	// or the publisher's budget (Accepted is after the cuts).
	Capped []Capped `json:"capped,omitempty" metadata:",optional"`
	// Payouts are the payments made for Accepted.
	Payouts []Payout `json:"payouts,omitempty" metadata:",optional"`
	// ProvedAt and ProveTxID are the accepting Prove transaction's.
	ProvedAt  string `json:"provedAt,omitempty" metadata:",optional"`
	ProveTxID string `json:"proveTxId,omitempty" metadata:",optional"`
}

// SameContent reports whether in commits the same batch as b.
func (b *Batch) SameContent(in *BatchInput) bool {
	if b.Epoch != in.Epoch || b.Root != in.Root || b.Size != in.Size || len(b.Totals) != len(in.Totals) {
		return false
	}
	for i := range b.Totals {
		if b.Totals[i] != in.Totals[i] {
			return false
		}
	}
	return true
}

// PaidSerial records that a receipt serial of a gateway was paid, stored
// under SerialKeyType [gateway, serial].
type PaidSerial struct {
	Gateway string `json:"gateway"`
	Serial  string `json:"serial"`
	Batch   string `json:"batch"`
	Index   int64  `json:"index"`
}

// DecodeBatchInput decodes caller JSON into a BatchInput, refusing unknown
// fields and trailing data, and validates its shape.
func DecodeBatchInput(data []byte) (*BatchInput, error) {
	var in BatchInput
	if err := decodeStrict(data, &in, "batch"); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &in, nil
}

// DecodeSamples decodes caller JSON into the sampled leaves of a batch,
// refusing unknown fields and trailing data.
func DecodeSamples(data []byte) ([]SampledLeaf, error) {
	var s []SampledLeaf
	if err := decodeStrict(data, &s, "samples"); err != nil {
		return nil, err
	}
	if len(s) > MaxSampledLeaves {
		return nil, invalidf("at most %d samples, got %d", MaxSampledLeaves, len(s))
	}
	for i := range s {
		if err := s[i].checkLengths(); err != nil {
			return nil, err
		}
	}
	return s, nil
}
