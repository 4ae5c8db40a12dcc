package contract

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// SLAContractName is the name clients use to call the SLA contract.
const SLAContractName = "sla"

// SLAContract scores the nodes from the attesters' observations.
//
// Attest stores one attestation per attester (gateway or edge-agent
// identity) and epoch under its own key [epoch, attesterMsp, certHash], so
// attesters never conflict with each other. Score(epoch), which any
// member with a role may call once the epoch has ended, reads the epoch's
// attestations, writes each observed node's score and breakdown under the
// node's own keys and marks the epoch scored: Attest reads that mark and
// refuses a scored epoch, so the scores are a function of the
// attestations stored (an Attest racing a Score loses one of them to
// Fabric's MVCC check). The formula is records' (slaformula.go).
type SLAContract struct {
	contractapi.Contract
}

// NewSLAContract returns the SLA contract.
func NewSLAContract() *SLAContract {
	return &SLAContract{Contract: newContract(SLAContractName, "DCT SLA scores", "Per-epoch attestations of the nodes' service and the scores computed from them")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *SLAContract) GetEvaluateTransactions() []string {
	return []string{"Get", "List", "Breakdown", "History", "Attestations", "Epoch"}
}

// Attest records the caller's attestation (attestationJSON: a
// records.SLAAttestationInput) for an epoch from SLAAttestEpochs before
// the current one up to the current one, not yet scored. Submitting the
// same attestation again returns the stored one and changes nothing; a
// different one for the same epoch is refused (ALREADY_EXISTS). Every
// observed node must be registered.
func (c *SLAContract) Attest(ctx contractapi.TransactionContextInterface, attestationJSON string) (*records.SLAAttestation, error) {
	a, err := attest(ctx, attestationJSON)
	return a, asRecordsError(err)
}

// Score scores epoch (which must have ended) from its attestations: every
// node observed by an organisation other than its own and not scored for
// this or a later epoch gets its next score and breakdown. Scoring an
// epoch again returns the first result and changes nothing.
func (c *SLAContract) Score(ctx contractapi.TransactionContextInterface, epoch int64) (*records.SLAEpoch, error) {
	e, err := scoreEpoch(ctx, epoch)
	return e, asRecordsError(err)
}

// Get reads node's score: UnscoredSLA for a registered node never scored.
func (c *SLAContract) Get(ctx contractapi.TransactionContextInterface, node string) (*records.SLAScore, error) {
	s, _, err := loadScore(ctx.GetStub(), node, true)
	return s, asRecordsError(err)
}

// List reads every stored score, by node id (nodes never scored have
// none).
func (c *SLAContract) List(ctx contractapi.TransactionContextInterface) ([]*records.SLAScore, error) {
	s, err := listRecords[records.SLAScore](ctx.GetStub(), records.SLAScoreKeyType)
	return s, asRecordsError(err)
}

// Breakdown reads how node's current score was computed.
func (c *SLAContract) Breakdown(ctx contractapi.TransactionContextInterface, node string) (*records.SLABreakdown, error) {
	key, err := records.SLABreakdownKey(node)
	if err != nil {
		return nil, err
	}
	b, found, err := getRecord[records.SLABreakdown](ctx.GetStub(), key, describe("SLA breakdown", node))
	if err != nil {
		return nil, asRecordsError(err)
	}
	if !found {
		return nil, notFoundf("node %q has not been scored", node)
	}
	return b, nil
}

// History returns every breakdown of node, oldest first: each scored
// epoch with its organisations' views, the score and the state.
func (c *SLAContract) History(ctx contractapi.TransactionContextInterface, node string) ([]*records.HistoryEntry, error) {
	key, err := records.SLABreakdownKey(node)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(ctx.GetStub(), key, describe("SLA breakdown", node))
	return h, asRecordsError(err)
}

// Attestations reads every attestation of epoch, by attester: with them
// anyone can recompute the epoch's scores.
func (c *SLAContract) Attestations(ctx contractapi.TransactionContextInterface, epoch int64) ([]*records.SLAAttestation, error) {
	if epoch < 0 {
		return nil, invalidf("epoch must not be negative, got %d", epoch)
	}
	as, err := epochAttestations(ctx.GetStub(), epoch)
	return as, asRecordsError(err)
}

// Epoch reads the scoring record of epoch (NOT_FOUND before sla:Score).
func (c *SLAContract) Epoch(ctx contractapi.TransactionContextInterface, epoch int64) (*records.SLAEpoch, error) {
	if epoch < 0 {
		return nil, invalidf("epoch must not be negative, got %d", epoch)
	}
	e, found, _, err := loadSLAEpoch(ctx.GetStub(), epoch)
	if err != nil {
		return nil, asRecordsError(err)
	}
	if !found {
		return nil, notFoundf("epoch %d has not been scored", epoch)
	}
	return e, nil
}

func loadSLAEpoch(stub shim.ChaincodeStubInterface, epoch int64) (*records.SLAEpoch, bool, string, error) {
	key, err := compositeKey(stub, records.SLAEpochKeyType, records.EpochPad(epoch))
	if err != nil {
		return nil, false, "", err
	}
	e, found, err := getRecord[records.SLAEpoch](stub, key, describe("SLA epoch", records.EpochPad(epoch)))
	return e, found, key, err
}

// loadScore reads node's stored score; with unscored, a registered node
// without one is UnscoredSLA (found false), an unknown node NOT_FOUND.
func loadScore(stub shim.ChaincodeStubInterface, node string, unscored bool) (*records.SLAScore, bool, error) {
	key, err := records.SLAScoreKey(node)
	if err != nil {
		return nil, false, err
	}
	s, found, err := getRecord[records.SLAScore](stub, key, describe("SLA score", node))
	if err != nil || found {
		return s, found, err
	}
	if unscored {
		if _, err := loadNode(stub, node); err != nil {
			return nil, false, err
		}
	}
	u := records.UnscoredSLA(node)
	return &u, false, nil
}

func attest(ctx txContext, attestationJSON string) (*records.SLAAttestation, error) {
	caller, err := authorize(ctx, "sla:Attest")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeSLAAttestationInput([]byte(attestationJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	secs, err := epochSeconds(stub)
	if err != nil {
		return nil, err
	}
	cur := records.EpochOf(now, secs)
	if in.Epoch > cur {
		return nil, invalidf("epoch %d is in the future (the current epoch is %d)", in.Epoch, cur)
	}
	if in.Epoch < cur-records.SLAAttestEpochs {
		return nil, preconditionf("epoch %d is closed: attestations are accepted for epochs %d..%d", in.Epoch, cur-records.SLAAttestEpochs, cur)
	}
	if _, scored, _, err := loadSLAEpoch(stub, in.Epoch); err != nil {
		return nil, err
	} else if scored {
		return nil, preconditionf("epoch %d is already scored: it takes no more attestations", in.Epoch)
	}
	key, err := records.SLAAttestationKey(in.Epoch, caller.MSPID, caller.CertHash)
	if err != nil {
		return nil, internalf("attestation key: %v", err)
	}
	what := "the " + (&records.SLAAttestation{AttesterMSP: caller.MSPID, Attester: caller.CertHash, Epoch: in.Epoch, Observations: in.Observations}).String()
	prev, found, err := getRecord[records.SLAAttestation](stub, key, what)
	if err != nil {
		return nil, err
	}
	if found {
		if prev.SameContent(in) {
			return prev, nil // resubmission: a no-op
		}
		return nil, conflictf("%s already attested epoch %d (transaction %s); an attestation cannot be changed", caller, in.Epoch, prev.TxID)
	}
	for _, o := range in.Observations {
		if _, err := loadNode(stub, o.Node); err != nil {
			return nil, err
		}
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	a := &records.SLAAttestation{
		Epoch: in.Epoch, AttesterMSP: caller.MSPID, Attester: caller.CertHash, Observations: in.Observations,
		SubmittedAt: tx.time, TxID: tx.id,
	}
	if caller.Has(records.RoleNode) {
		a.AttesterNode = caller.NodeID
	}
	if err := putRecord(stub, key, what, a); err != nil {
		return nil, err
	}
	return a, nil
}

func epochAttestations(stub shim.ChaincodeStubInterface, epoch int64) ([]*records.SLAAttestation, error) {
	it, err := stub.GetStateByPartialCompositeKey(records.SLAAttestationKeyType, []string{records.EpochPad(epoch)})
	if err != nil {
		return nil, internalf("cannot list the attestations of epoch %d: %v", epoch, err)
	}
	defer it.Close()
	out := []*records.SLAAttestation{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, internalf("cannot list the attestations of epoch %d: %v", epoch, err)
		}
		a := new(records.SLAAttestation)
		if err := json.Unmarshal(kv.Value, a); err != nil {
			return nil, internalf("a stored attestation of epoch %d is corrupt: %v", epoch, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func scoreEpoch(ctx txContext, epoch int64) (*records.SLAEpoch, error) {
	if _, err := authorize(ctx, "sla:Score"); err != nil {
		return nil, err
	}
	if epoch < 0 {
		return nil, invalidf("epoch must not be negative, got %d", epoch)
	}
	stub := ctx.GetStub()
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	secs, err := epochSeconds(stub)
	if err != nil {
		return nil, err
	}
	if cur := records.EpochOf(now, secs); epoch >= cur {
		return nil, preconditionf("epoch %d has not ended (the current epoch is %d)", epoch, cur)
	}
	done, found, markKey, err := loadSLAEpoch(stub, epoch)
	if err != nil {
		return nil, err
	}
	if found {
		return done, nil // scored already: a no-op
	}
	// node → attesting organisation → its attesters' observations, from
	// at most MaxSLAAttestersPerOrg attestations of each organisation
	// (the others are counted, not read).
	byNode := map[string]map[string][]records.SLAObservation{}
	perOrg := map[string]int{}
	counted, ignored := 0, 0
	it, err := stub.GetStateByPartialCompositeKey(records.SLAAttestationKeyType, []string{records.EpochPad(epoch)})
	if err != nil {
		return nil, internalf("cannot list the attestations of epoch %d: %v", epoch, err)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, internalf("cannot list the attestations of epoch %d: %v", epoch, err)
		}
		_, attrs, err := stub.SplitCompositeKey(kv.Key)
		if err != nil || len(attrs) != 3 {
			return nil, internalf("attestation key %q is malformed", kv.Key)
		}
		if perOrg[attrs[1]] >= records.MaxSLAAttestersPerOrg {
			ignored++
			continue
		}
		perOrg[attrs[1]]++
		a := new(records.SLAAttestation)
		if err := json.Unmarshal(kv.Value, a); err != nil {
			return nil, internalf("a stored attestation of epoch %d is corrupt: %v", epoch, err)
		}
		counted++
		for _, o := range a.Observations {
			if byNode[o.Node] == nil {
				byNode[o.Node] = map[string][]records.SLAObservation{}
			}
			byNode[o.Node][a.AttesterMSP] = append(byNode[o.Node][a.AttesterMSP], o)
		}
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	mark := &records.SLAEpoch{Epoch: epoch, Attestations: counted, Ignored: ignored, Nodes: []string{}, Skipped: []string{}, ScoredAt: tx.time, TxID: tx.id}
	type write struct {
		key, what string
		rec       any
	}
	var writes []write
	for _, id := range slices.Sorted(maps.Keys(byNode)) {
		n, err := loadNode(stub, id)
		if records.CodeOf(err) == records.CodeNotFound {
			mark.Skipped = append(mark.Skipped, id) // cannot happen: Attest checks
			continue
		}
		if err != nil {
			return nil, err
		}
		views := records.SLANodeViews(n.Org, byNode[id])
		prev, _, err := loadScore(stub, id, false)
		if err != nil {
			return nil, err
		}
		if len(views) == 0 || prev.State != records.SLAStateUnscored && prev.Epoch >= epoch {
			mark.Skipped = append(mark.Skipped, id)
			continue
		}
		bkey, err := records.SLABreakdownKey(id)
		if err != nil {
			return nil, internalf("breakdown key: %v", err)
		}
		prevB, _, err := getRecord[records.SLABreakdown](stub, bkey, describe("SLA breakdown", id))
		if err != nil {
			return nil, err
		}
		var below int64
		if prevB != nil {
			below = prevB.Below
		}
		next, b, _ := records.ScoreNode(*prev, below, epoch, views)
		b.Org, b.ScoredAt, b.TxID = n.Org, tx.time, tx.id
		skey, err := records.SLAScoreKey(id)
		if err != nil {
			return nil, internalf("score key: %v", err)
		}
		writes = append(writes, write{skey, describe("SLA score", id), &next}, write{bkey, describe("SLA breakdown", id), b})
		mark.Nodes = append(mark.Nodes, id)
	}
	for _, w := range writes {
		if err := putRecord(stub, w.key, w.what, w.rec); err != nil {
			return nil, err
		}
	}
	if err := putRecord(stub, markKey, describe("SLA epoch", records.EpochPad(epoch)), mark); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(mark)
	if err != nil {
		return nil, internalf("cannot encode the SLA event: %v", err)
	}
	if err := stub.SetEvent(records.SLAEventName, payload); err != nil {
		return nil, internalf("cannot set the SLA event: %v", err)
	}
	return mark, nil
}
