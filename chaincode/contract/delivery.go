package contract

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// DeliveryContractName is the name clients use to call the delivery
// contract.
const DeliveryContractName = "delivery"

// DeliveryContract verifies gateways' batches of delivery receipts before
// anything is paid. A gateway commits a batch (Commit: root, size, totals
// of one epoch) and then proves it (Prove: the leaves SampleIndices picks
// from the Commit's transaction id, with their inclusion proofs, and the
// seals of the gateway's group commits that logged them with the
// receipts' inclusion proofs in their groups). A proof or signature failure refuses the Prove
// and changes nothing (the batch stays pending and expires); a sampled
// receipt that is well formed but not payable (replayed serial, node not
// active or not a holder of the shard during the epoch, shard hash or
// manifest wrong) is excluded: its bytes are not paid, and the batch
// records it. On acceptance every (node, publisher) total left is paid
// with payDelivery.
//
// Receipts not sampled are trusted as the gateway's organisation vouches
// for them: a batch with a fraction f of bad receipts passes a sample of
// s leaves with probability about (1-f)^s.
type DeliveryContract struct {
	contractapi.Contract
	log *slog.Logger // nil: no log
}

// NewDeliveryContract returns the delivery contract; with a logger, it
// logs every Prove with how long verifying its samples took.
func NewDeliveryContract(opts ...Option) *DeliveryContract {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return &DeliveryContract{log: o.log, Contract: newContract(DeliveryContractName, "DCT proof of delivery", "Gateways' batches of delivery receipts, verified by sampling before payment")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *DeliveryContract) GetEvaluateTransactions() []string {
	return []string{"Batch", "Batches", "Epoch", "NodeEpoch"}
}

// SetEpochLength sets the ledger's epoch length to seconds
// (records.MinEpochSeconds..MaxEpochSeconds): an admin of any member
// organisation, once, and only while no record that names an epoch or a
// contract exists (records.EpochDependentKeyTypes); see
// records.EpochSetting. Until then epochs are records.DefaultEpochSeconds
// long.
func (c *DeliveryContract) SetEpochLength(ctx contractapi.TransactionContextInterface, seconds int64) (*records.EpochSetting, error) {
	s, err := setEpochLength(ctx, seconds)
	return s, asRecordsError(err)
}

func setEpochLength(ctx txContext, seconds int64) (*records.EpochSetting, error) {
	who, err := authorize(ctx, "delivery:SetEpochLength")
	if err != nil {
		return nil, err
	}
	if err := records.ValidateEpochSeconds(seconds); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	cur, found, key, err := loadEpochSetting(stub)
	if err != nil {
		return nil, err
	}
	if found {
		return nil, preconditionf("the epoch length is already set (%s): it is set once", cur)
	}
	for _, kt := range records.EpochDependentKeyTypes {
		it, err := stub.GetStateByPartialCompositeKey(kt, []string{})
		if err != nil {
			return nil, internalf("cannot list %s records: %v", kt, err)
		}
		exists := it.HasNext()
		it.Close()
		if exists {
			return nil, preconditionf("the epoch length can no longer be set: %s records exist (it is set before the first batch, SLA attestation or auction)", kt)
		}
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	set := &records.EpochSetting{Seconds: seconds, SetBy: who.MSPID, SetByCert: who.CertHash, SetAt: tx.time, TxID: tx.id}
	return set, putRecord(stub, key, "epoch setting", set)
}

// loadEpochSetting reads the epoch setting: the default when none was set
// (found false), and its key.
func loadEpochSetting(stub shim.ChaincodeStubInterface) (set *records.EpochSetting, found bool, key string, err error) {
	key, err = compositeKey(stub, records.EpochSettingKeyType)
	if err != nil {
		return nil, false, "", err
	}
	set, found, err = getRecord[records.EpochSetting](stub, key, "epoch setting")
	if err != nil {
		return nil, false, "", err
	}
	if !found {
		return records.DefaultEpochSetting(), false, key, nil
	}
	if err := set.Validate(); err != nil {
		return nil, false, "", internalf("stored epoch setting is corrupt: %v", err)
	}
	return set, true, key, nil
}

// epochSeconds is the ledger's epoch length (records.DefaultEpochSeconds
// when never set).
func epochSeconds(stub shim.ChaincodeStubInterface) (int64, error) {
	set, _, _, err := loadEpochSetting(stub)
	if err != nil {
		return 0, err
	}
	return set.Seconds, nil
}

// Commit records a pending batch (batchJSON: a records.BatchInput without
// samples) of the calling gateway for an epoch within the submission
// window. A gateway has at most one batch per epoch: committing the same
// batch again returns the existing record and changes nothing, a
// different one is refused (ALREADY_EXISTS). The batch id is the
// transaction id.
func (c *DeliveryContract) Commit(ctx contractapi.TransactionContextInterface, batchJSON string) (*records.Batch, error) {
	b, err := commitBatch(ctx, batchJSON)
	return b, asRecordsError(err)
}

// Prove checks the sampled leaves of a pending batch (samplesJSON: a JSON
// array of records.SampledLeaf, exactly the leaves
// records.SampleIndices(batchID, size) picks, in that order) and, when
// they hold, accepts the batch and pays its totals less the excluded
// receipts. Only the committing identity may prove; proving an accepted
// batch returns it and changes nothing.
func (c *DeliveryContract) Prove(ctx contractapi.TransactionContextInterface, batchID string, samplesJSON string) (*records.Batch, error) {
	start := time.Now()
	var tm proveTiming
	b, err := proveBatch(ctx, batchID, samplesJSON, &tm)
	if c.log != nil {
		c.log.Info("delivery:Prove", "batch", batchID, "tx", ctx.GetStub().GetTxID(), "samples", tm.samples,
			"verifyMicros", tm.verify.Microseconds(), "totalMicros", time.Since(start).Microseconds(), "err", err)
	}
	return b, asRecordsError(err)
}

// Batch reads a batch.
func (c *DeliveryContract) Batch(ctx contractapi.TransactionContextInterface, id string) (*records.Batch, error) {
	b, err := loadBatch(ctx.GetStub(), id)
	return b, asRecordsError(err)
}

// Batches reads every batch of the gateways of organisation gatewayMSP, by
// gateway and epoch.
func (c *DeliveryContract) Batches(ctx contractapi.TransactionContextInterface, gatewayMSP string) ([]*records.Batch, error) {
	if err := records.ValidateMSPID("gatewayMsp", gatewayMSP); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	it, err := stub.GetStateByPartialCompositeKey(records.BatchEpochKeyType, []string{gatewayMSP})
	if err != nil {
		return nil, internalf("cannot list batches: %v", err)
	}
	defer it.Close()
	out := []*records.Batch{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, internalf("cannot list batches: %v", err)
		}
		b, err := loadBatch(stub, string(kv.Value))
		if err != nil {
			return nil, asRecordsError(err)
		}
		out = append(out, b)
	}
	return out, nil
}

// NodeEpoch reads the capacity counter of node id in epoch: the bytes the
// accepted batches of every gateway counted against its capacity, and
// those cut above it (zero when no batch counted it).
func (c *DeliveryContract) NodeEpoch(ctx contractapi.TransactionContextInterface, id string, epoch int64) (*records.NodeEpoch, error) {
	if err := records.ValidateNodeID(id); err != nil {
		return nil, err
	}
	if epoch < 0 {
		return nil, invalidf("epoch must not be negative, got %d", epoch)
	}
	ne, _, _, err := loadNodeEpoch(ctx.GetStub(), id, epoch)
	return ne, asRecordsError(err)
}

func loadNodeEpoch(stub shim.ChaincodeStubInterface, id string, epoch int64) (ne *records.NodeEpoch, key string, found bool, err error) {
	key, err = compositeKey(stub, records.NodeEpochKeyType, id, records.EpochPad(epoch))
	if err != nil {
		return nil, "", false, err
	}
	ne, found, err = getRecord[records.NodeEpoch](stub, key, describe("node epoch", id, records.EpochPad(epoch)))
	if err != nil {
		return nil, "", false, err
	}
	if !found {
		ne = &records.NodeEpoch{Node: id, Epoch: epoch}
	}
	return ne, key, found, nil
}

// Epoch returns the current epoch, its bounds, its length and the
// submission window.
func (c *DeliveryContract) Epoch(ctx contractapi.TransactionContextInterface) (*records.EpochInfo, error) {
	now, err := txTime(ctx.GetStub())
	if err != nil {
		return nil, asRecordsError(err)
	}
	secs, err := epochSeconds(ctx.GetStub())
	if err != nil {
		return nil, asRecordsError(err)
	}
	e := records.EpochOf(now, secs)
	return &records.EpochInfo{
		Epoch: e, Seconds: secs, Window: records.SubmissionEpochs,
		Start: records.FormatTimestamp(records.EpochStart(e, secs)), End: records.FormatTimestamp(records.EpochStart(e+1, secs)),
	}, nil
}

func txTime(stub shim.ChaincodeStubInterface) (time.Time, error) {
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return time.Time{}, internalf("cannot read the transaction timestamp: %v", err)
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, internalf("invalid transaction timestamp: %v", err)
	}
	return ts.AsTime(), nil
}

// checkWindow refuses an epoch in the future or before the submission
// window of now.
func checkWindow(epoch int64, now time.Time, secs int64) error {
	cur := records.EpochOf(now, secs)
	if epoch > cur {
		return invalidf("epoch %d is in the future (the current epoch is %d)", epoch, cur)
	}
	if epoch < cur-records.SubmissionEpochs {
		return preconditionf("epoch %d has expired: batches are accepted for epochs %d..%d", epoch, cur-records.SubmissionEpochs, cur)
	}
	return nil
}

func commitBatch(ctx txContext, batchJSON string) (*records.Batch, error) {
	gw, err := authorize(ctx, "delivery:Commit")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeBatchInput([]byte(batchJSON))
	if err != nil {
		return nil, err
	}
	if len(in.Samples) != 0 {
		return nil, invalidf("Commit takes no samples: they are proved with Prove, once the batch id is known")
	}
	stub := ctx.GetStub()
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	secs, err := epochSeconds(stub)
	if err != nil {
		return nil, err
	}
	if err := checkWindow(in.Epoch, now, secs); err != nil {
		return nil, err
	}
	slot, err := compositeKey(stub, records.BatchEpochKeyType, gw.MSPID, gw.CertHash, records.EpochPad(in.Epoch))
	if err != nil {
		return nil, err
	}
	prev, err := stub.GetState(slot)
	if err != nil {
		return nil, internalf("cannot read the batches of %s: %v", gw, err)
	}
	if prev != nil {
		b, err := loadBatch(stub, string(prev))
		if err != nil {
			return nil, err
		}
		if b.SameContent(in) {
			return b, nil // resubmission: a no-op
		}
		return nil, conflictf("%s already has batch %s for epoch %d: a second, different batch of the same epoch overlaps it", gw, b.ID, in.Epoch)
	}
	for _, t := range in.Totals {
		if _, err := loadNode(stub, t.Node); err != nil {
			return nil, err
		}
	}
	b := &records.Batch{
		ID: tx.id, GatewayMSP: gw.MSPID, Gateway: gw.CertHash, Epoch: in.Epoch, Root: in.Root, Size: in.Size,
		Totals: in.Totals, Status: records.BatchPending, CommittedAt: tx.time,
	}
	key, err := compositeKey(stub, records.BatchKeyType, b.ID)
	if err != nil {
		return nil, err
	}
	if err := putRecord(stub, key, describe("batch", b.ID), b); err != nil {
		return nil, err
	}
	if err := stub.PutState(slot, []byte(b.ID)); err != nil {
		return nil, internalf("cannot index batch %s: %v", b.ID, err)
	}
	return b, nil
}

func loadBatch(stub shim.ChaincodeStubInterface, id string) (*records.Batch, error) {
	if id == "" || len(id) > 256 {
		return nil, invalidf("batch id must be 1..256 characters")
	}
	key, err := compositeKey(stub, records.BatchKeyType, id)
	if err != nil {
		return nil, invalidf("bad batch id: %v", err)
	}
	b, found, err := getRecord[records.Batch](stub, key, describe("batch", id))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s does not exist", describe("batch", id))
	}
	return b, nil
}

// proveTiming is how long a Prove took to verify its samples (logged, never
// part of a result: endorsers must agree on those).
type proveTiming struct {
	samples int
	verify  time.Duration
}

// verifySamples checks that samples are exactly the leaves want, each a
// well-formed receipt of b's gateway and epoch, in a group sealed by the
// key of cert (the committer's) and in b's tree. Any failure refuses the
// batch (INVALID_ARGUMENT). A seal shared by several samples is verified
// once.
func verifySamples(b *records.Batch, want []int64, samples []records.SampledLeaf, cert *x509.Certificate) error {
	if len(samples) != len(want) {
		return invalidf("batch %s rejected: %d samples, the batch's proof needs leaves %v", b.ID, len(samples), want)
	}
	sealed := map[string]bool{}
	for i := range samples {
		s := &samples[i]
		if s.Index != want[i] {
			return invalidf("batch %s rejected: sample %d is leaf %d, want leaf %d (leaves %v, in that order)", b.ID, i, s.Index, want[i], want)
		}
		r := &s.Receipt
		if err := r.Validate(); err != nil {
			return invalidf("batch %s rejected: receipt of leaf %d: %s", b.ID, s.Index, messageOf(err))
		}
		if r.GatewayMSP != b.GatewayMSP || r.Gateway != b.Gateway || r.Epoch != b.Epoch {
			return invalidf("batch %s rejected: receipt %s of leaf %d names gateway %s/%s, epoch %d, not the batch's", b.ID, r.Serial, s.Index, r.GatewayMSP, r.Gateway, r.Epoch)
		}
		if err := s.CheckGroup(); err != nil {
			return invalidf("batch %s rejected: receipt %s of leaf %d: %s", b.ID, r.Serial, s.Index, messageOf(err))
		}
		key := string(s.Seal.SigningBytes()) + "\x00" + string(s.Seal.Signature)
		if !sealed[key] {
			if err := records.VerifySealSignature(cert, &s.Seal); err != nil {
				return invalidf("batch %s rejected: receipt %s of leaf %d: %s", b.ID, r.Serial, s.Index, messageOf(err))
			}
			sealed[key] = true
		}
		if err := records.VerifyInclusion(records.LeafHash(r.LeafData()), s.Index, b.Size, s.Proof, b.Root); err != nil {
			return invalidf("batch %s rejected: receipt %s: %s", b.ID, r.Serial, messageOf(err))
		}
	}
	return nil
}

func proveBatch(ctx txContext, batchID, samplesJSON string, tm *proveTiming) (*records.Batch, error) {
	gw, err := authorize(ctx, "delivery:Prove")
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	b, err := loadBatch(stub, batchID)
	if err != nil {
		return nil, err
	}
	if gw.MSPID != b.GatewayMSP || gw.CertHash != b.Gateway {
		return nil, forbiddenf("%s did not commit batch %s: only its committer (%s, certificate %s) may prove it", gw, b.ID, b.GatewayMSP, b.Gateway)
	}
	if b.Status == records.BatchAccepted {
		return b, nil // resubmission: a no-op, never a second payment
	}
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	secs, err := epochSeconds(stub)
	if err != nil {
		return nil, err
	}
	if err := checkWindow(b.Epoch, now, secs); err != nil {
		return nil, err
	}
	verifyStart := time.Now()
	samples, err := records.DecodeSamples([]byte(samplesJSON))
	if err != nil {
		return nil, err
	}
	cert, err := ctx.GetClientIdentity().GetX509Certificate()
	if err != nil || cert == nil {
		return nil, forbiddenf("the caller has no X.509 certificate")
	}
	// Forgery: any failure here refuses the whole batch.
	want := records.SampleIndices(b.ID, b.Size)
	if err := verifySamples(b, want, samples, cert); err != nil {
		return nil, err
	}
	if tm != nil {
		tm.samples, tm.verify = len(samples), time.Since(verifyStart)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	// Semantics: a bad receipt excludes itself.
	start, end := records.EpochStart(b.Epoch, secs), records.EpochStart(b.Epoch+1, secs)
	chk := &holderCheck{stub: stub, secs: secs, start: start, end: end, manifests: map[string][]*records.Manifest{}, nodes: map[string][]*records.Node{}}
	accepted := slices.Clone(b.Totals)
	var excluded []records.Excluded
	var paid []*records.PaidSerial
	seen := map[string]bool{}
	delivered := map[deliveryKey]string{} // → serial
	for _, s := range samples {
		r := &s.Receipt
		publisher, reason, detail, err := chk.check(r)
		if err != nil {
			return nil, err
		}
		if reason == "" {
			key, err := compositeKey(stub, records.SerialKeyType, b.Gateway, r.Serial)
			if err != nil {
				return nil, err
			}
			prev, found, err := getRecord[records.PaidSerial](stub, key, "serial "+r.Serial)
			if err != nil {
				return nil, err
			}
			switch {
			case found:
				reason, detail = records.ExcludedReplayed, "serial "+r.Serial+" was paid in batch "+prev.Batch
			case seen[r.Serial]:
				reason, detail = records.ExcludedReplayed, "serial "+r.Serial+" appears twice in the batch"
			}
		}
		seen[r.Serial] = true
		dk := deliveryKey{r.Request, r.Object, r.Version, r.Shard, r.Offset}
		if first, dup := delivered[dk]; reason == "" && dup {
			reason, detail = records.ExcludedDuplicate, "receipt "+r.Serial+" repeats the delivery of receipt "+first+
				" (request "+r.Request+", "+describe("manifest", r.Object, r.Version)+" shard "+strconv.Itoa(r.Shard)+" at "+strconv.FormatInt(r.Offset, 10)+")"
		} else if reason == "" {
			delivered[dk] = r.Serial
		}
		if err := countIn(accepted, r, publisher, reason != ""); err != nil {
			return nil, invalidf("batch %s rejected: %s", b.ID, messageOf(err))
		}
		if reason != "" {
			excluded = append(excluded, records.Excluded{Index: s.Index, Serial: r.Serial, Node: r.Node, Publisher: publisher, Bytes: r.Bytes, Reason: reason, Detail: detail})
			continue
		}
		paid = append(paid, &records.PaidSerial{Gateway: b.Gateway, Serial: r.Serial, Batch: b.ID, Index: s.Index})
	}
	b.Sampled = want
	b.Excluded = excluded
	b.Payouts = nil
	b.Capped = nil
	// Node capacity: each node's accepted bytes of the epoch, over every
	// gateway's batches, stay within what its bandwidth allows.
	counters, err := capToCapacity(stub, chk, b, accepted, tx)
	if err != nil {
		return nil, err
	}
	for i := range accepted {
		t := &accepted[i]
		if t.Bytes <= 0 {
			continue
		}
		n, err := loadNode(stub, t.Node)
		if err != nil {
			return nil, err
		}
		// The node's contract with the publisher, when it has one, sets
		// the price (auction:Clear), else the consortium price.
		cp, err := contractPrice(stub, t.Publisher, t.Node, chk.start)
		if err != nil {
			return nil, err
		}
		p, err := payDeliveryAt(ctx, t.Publisher, n.Org, b.Epoch, t.Bytes, records.PayoutRef(b.ID, t.Node, t.Publisher), cp)
		if err != nil {
			return nil, err
		}
		if p.CappedBytes > 0 {
			b.Capped = append(b.Capped, records.Capped{Node: t.Node, Publisher: t.Publisher, Bytes: p.CappedBytes, Reason: records.CappedPublisherBudget,
				Detail: "the budget of " + t.Publisher + " for epoch " + strconv.FormatInt(b.Epoch, 10) + " covers only " + strconv.FormatInt(p.Bytes, 10) + " of these bytes"})
			t.Bytes = p.Bytes
		}
		b.Payouts = append(b.Payouts, *p)
	}
	b.Accepted = accepted
	for _, c := range counters {
		if err := putRecord(stub, c.key, describe("node epoch", c.ne.Node, records.EpochPad(c.ne.Epoch)), c.ne); err != nil {
			return nil, err
		}
	}
	// The contract's own writes come last, after every check and payment.
	for _, p := range paid {
		key, err := compositeKey(stub, records.SerialKeyType, p.Gateway, p.Serial)
		if err != nil {
			return nil, err
		}
		if err := putRecord(stub, key, "serial "+p.Serial, p); err != nil {
			return nil, err
		}
	}
	b.Status = records.BatchAccepted
	b.ProvedAt = tx.time
	b.ProveTxID = tx.id
	key, err := compositeKey(stub, records.BatchKeyType, b.ID)
	if err != nil {
		return nil, err
	}
	if err := putRecord(stub, key, describe("batch", b.ID), b); err != nil {
		return nil, err
	}
	return b, nil
}

// deliveryKey names one delivery of shard bytes for one end-user request:
// two receipts with the same key are the same delivery.
type deliveryKey struct {
	request, object, version string
	shard                    int
	offset                   int64
}

type nodeCounter struct {
	key string
	ne  *records.NodeEpoch
}

// capToCapacity cuts the accepted totals of each node, in their order, to
// the capacity the node has left in the batch's epoch (NodeEpochCapacity
// of the highest bandwidth it had registered while active during the
// epoch, less the bytes earlier accepted batches counted), records the
// cuts in b.Capped and returns the updated counters to write.
func capToCapacity(stub shim.ChaincodeStubInterface, chk *holderCheck, b *records.Batch, accepted []records.NodeTotal, tx txInfo) ([]nodeCounter, error) {
	var out []nodeCounter
	byNode := map[string]*records.NodeEpoch{}
	for i := range accepted {
		t := &accepted[i]
		if t.Bytes <= 0 {
			continue
		}
		ne := byNode[t.Node]
		if ne == nil {
			capacity, err := chk.capacity(t.Node)
			if err != nil {
				return nil, err
			}
			var key string
			if ne, key, _, err = loadNodeEpoch(stub, t.Node, b.Epoch); err != nil {
				return nil, err
			}
			ne.CapacityBytes = max(ne.CapacityBytes, capacity)
			ne.Batches++
			ne.UpdatedAt, ne.LastTxID = tx.time, tx.id
			out = append(out, nodeCounter{key: key, ne: ne})
			byNode[t.Node] = ne
		}
		left := max(ne.CapacityBytes-ne.Bytes, 0)
		take := min(t.Bytes, left)
		if cut := t.Bytes - take; cut > 0 {
			detail := "node " + t.Node + " can deliver " + strconv.FormatInt(ne.CapacityBytes, 10) + " bytes in epoch " + strconv.FormatInt(b.Epoch, 10) +
				" (its registered bandwidth / 8 × " + strconv.FormatInt(chk.secs, 10) + " s); " + strconv.FormatInt(left, 10) + " were left"
			if ne.CapacityBytes == 0 {
				detail = "node " + t.Node + " was not registered and active during epoch " + strconv.FormatInt(b.Epoch, 10)
			}
			b.Capped = append(b.Capped, records.Capped{Node: t.Node, Publisher: t.Publisher, Bytes: cut, Reason: records.CappedNodeCapacity, Detail: detail})
			ne.CappedBytes = saturatingAdd(ne.CappedBytes, cut) // claims are unbounded: never fail on them
		}
		ne.Bytes += take
		t.Bytes = take
	}
	return out, nil
}

// countIn checks that receipt r is counted in the totals (its node and
// publisher have a total with room for it) and, when exclude, subtracts
// it. A receipt whose publisher is unknown (its manifest is) is taken from
// its node's totals in publisher order.
func countIn(totals []records.NodeTotal, r *records.Receipt, publisher string, exclude bool) error {
	for i := range totals {
		t := &totals[i]
		if t.Node != r.Node || publisher != "" && t.Publisher != publisher {
			continue
		}
		if t.Receipts < 1 || t.Bytes < r.Bytes {
			continue
		}
		if exclude {
			t.Receipts--
			t.Bytes -= r.Bytes
		}
		return nil
	}
	if publisher == "" {
		publisher = "any publisher"
	}
	return invalidf("receipt %s (%d bytes) is not counted in the totals of node %s for %s", r.Serial, r.Bytes, r.Node, publisher)
}

// holderCheck decides whether a receipt's node was active and a holder of
// its shard during the epoch [start, end): it reads the records as they
// were then from their history (the record in effect at start and every
// write during the epoch), so a holder moved away by a repair after the
// epoch, or one moved in during it, is still paid for what it served.
type holderCheck struct {
	stub       shim.ChaincodeStubInterface
	secs       int64 // the epoch length
	start, end time.Time
	manifests  map[string][]*records.Manifest
	nodes      map[string][]*records.Node
}

// during returns the values of key in effect at some time in [start, end),
// oldest first (deletions leave no value).
func during[T any](stub shim.ChaincodeStubInterface, key, what string, start, end time.Time) ([]*T, error) {
	it, err := stub.GetHistoryForKey(key)
	if err != nil {
		return nil, internalf("cannot read the history of %s: %v", what, err)
	}
	defer it.Close()
	type entry struct {
		at  time.Time
		val []byte
	}
	var all []entry
	for it.HasNext() {
		mod, err := it.Next()
		if err != nil {
			return nil, internalf("cannot read the history of %s: %v", what, err)
		}
		e := entry{}
		if ts := mod.GetTimestamp(); ts != nil {
			e.at = ts.AsTime()
		}
		if !mod.GetIsDelete() {
			e.val = mod.GetValue()
		}
		all = append(all, e)
	}
	slices.SortStableFunc(all, func(a, b entry) int { return a.at.Compare(b.at) })
	var out []*T
	var before []byte
	for _, e := range all {
		if e.at.Before(start) {
			before = e.val
			continue
		}
		if !e.at.Before(end) {
			break
		}
		if before != nil {
			if v, err := decodeValue[T](before, what); err != nil {
				return nil, err
			} else {
				out = append(out, v)
			}
			before = nil
		}
		if e.val != nil {
			v, err := decodeValue[T](e.val, what)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	if before != nil {
		v, err := decodeValue[T](before, what)
		if err != nil {
			return nil, err
		}
		out = append([]*T{v}, out...)
	}
	return out, nil
}

func decodeValue[T any](data []byte, what string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, internalf("a stored version of %s is corrupt: %v", what, err)
	}
	return v, nil
}

// saturatingAdd is a+b for non-negative a and b, at most MaxInt64.
func saturatingAdd(a, b int64) int64 {
	if s, ok := records.AddAmounts(a, b); ok {
		return s
	}
	return math.MaxInt64
}

// capacity returns NodeEpochCapacity of the highest bandwidth node id had
// registered while active during the epoch (0 when it never was).
func (h *holderCheck) capacity(id string) (int64, error) {
	ns, err := h.nodeVersions(id)
	if err != nil {
		return 0, err
	}
	var bw int64
	for _, n := range ns {
		if n.Active() {
			bw = max(bw, n.BandwidthBps)
		}
	}
	return records.NodeEpochCapacity(bw, h.secs), nil
}

func (h *holderCheck) nodeVersions(id string) ([]*records.Node, error) {
	nkey, err := compositeKey(h.stub, records.NodeKeyType, id)
	if err != nil {
		return nil, err
	}
	ns, ok := h.nodes[nkey]
	if !ok {
		if ns, err = during[records.Node](h.stub, nkey, describe("node", id), h.start, h.end); err != nil {
			return nil, err
		}
		h.nodes[nkey] = ns
	}
	return ns, nil
}

// check returns the publisher organisation of r's content (empty when its
// manifest is unknown) and, when r is not payable, the exclusion reason
// and detail.
func (h *holderCheck) check(r *records.Receipt) (publisher, reason, detail string, err error) {
	mkey, err := compositeKey(h.stub, records.ManifestKeyType, r.Object, r.Version)
	if err != nil {
		return "", "", "", err
	}
	ms, ok := h.manifests[mkey]
	if !ok {
		if ms, err = during[records.Manifest](h.stub, mkey, describe("manifest", r.Object, r.Version), h.start, h.end); err != nil {
			return "", "", "", err
		}
		h.manifests[mkey] = ms
	}
	if len(ms) == 0 {
		return "", records.ExcludedManifest, describe("manifest", r.Object, r.Version) + " was not recorded during the epoch", nil
	}
	publisher = ms[len(ms)-1].Publisher
	ns, err := h.nodeVersions(r.Node)
	if err != nil {
		return publisher, "", "", err
	}
	if !slices.ContainsFunc(ns, (*records.Node).Active) {
		return publisher, records.ExcludedInactive, describe("node", r.Node) + " was not registered and active during the epoch", nil
	}
	live, hash := false, false
	for _, m := range ms {
		if m.Purged != nil {
			continue
		}
		live = true
		if r.Shard >= len(m.Shards) || m.Shards[r.Shard].Hash != r.ShardHash {
			continue
		}
		hash = true
		if slices.Contains(m.Shards[r.Shard].Nodes, r.Node) {
			if m.Auction != "" {
				// A contract a re-auction ended before the epoch pays
				// nothing, even while the manifest still lists the node.
				ended, when, err := contractEnded(h.stub, m.Auction, r.Shard, r.Node, h.start)
				if err != nil {
					return publisher, "", "", err
				}
				if ended {
					return publisher, records.ExcludedContractEnded, "the contract of " + describe("node", r.Node) + " for shard " + strconv.Itoa(r.Shard) +
						" of " + describe("manifest", r.Object, r.Version) + " ended at " + when + ", before the epoch", nil
				}
			}
			return publisher, "", "", nil
		}
	}
	switch {
	case !live:
		return publisher, records.ExcludedManifest, describe("manifest", r.Object, r.Version) + " was purged before the epoch", nil
	case !hash:
		return publisher, records.ExcludedShardHash, "shard " + strconv.Itoa(r.Shard) + " of " + describe("manifest", r.Object, r.Version) + " has another hash", nil
	}
	return publisher, records.ExcludedUnassigned, describe("node", r.Node) + " did not hold shard " + strconv.Itoa(r.Shard) + " of " + describe("manifest", r.Object, r.Version) + " during the epoch", nil
}

// messageOf returns the message of a *records.Error without its code
// prefix, for wrapping.
func messageOf(err error) string {
	var re *records.Error
	if errors.As(err, &re) {
		return re.Message
	}
	return err.Error()
}
