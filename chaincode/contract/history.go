package contract

import (
	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// HistoryContractName is the name clients use to call the history contract.
const HistoryContractName = "history"

// HistoryContract returns the committed writes of DCT records, oldest first,
// for auditors. It needs the peer's history database
// (ledger.history.enableHistoryDatabase, on by default).
type HistoryContract struct {
	contractapi.Contract
}

// NewHistoryContract returns the history contract.
func NewHistoryContract() *HistoryContract {
	return &HistoryContract{Contract: newContract(HistoryContractName, "DCT history", "Audit trail of DCT ledger records")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *HistoryContract) GetEvaluateTransactions() []string {
	return []string{"Node", "Manifest", "Object", "Identity", "Account", "Price", "Payout", "Batch", "Budget", "NodeEpoch", "SLAScore"}
}

// Node returns the history of a node record.
func (c *HistoryContract) Node(ctx contractapi.TransactionContextInterface, id string) ([]*records.HistoryEntry, error) {
	if err := records.ValidateNodeID(id); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.NodeKeyType, id)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(stub, key, describe("node", id))
	return h, asRecordsError(err)
}

// Manifest returns the history of a manifest record.
func (c *HistoryContract) Manifest(ctx contractapi.TransactionContextInterface, name string, version string) ([]*records.HistoryEntry, error) {
	if _, err := records.ManifestKey(name, version); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.ManifestKeyType, name, version)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(stub, key, describe("manifest", name, version))
	return h, asRecordsError(err)
}

// Object returns the history of an object head record.
func (c *HistoryContract) Object(ctx contractapi.TransactionContextInterface, name string) ([]*records.HistoryEntry, error) {
	if err := records.ValidateObjectName(name); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.ObjectKeyType, name)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(stub, key, describe("object", name))
	return h, asRecordsError(err)
}

// Identity returns the history of the grant of certificate certHash of
// organisation mspID: every grant and revocation.
func (c *HistoryContract) Identity(ctx contractapi.TransactionContextInterface, mspID string, certHash string) ([]*records.HistoryEntry, error) {
	key, err := records.IdentityKey(mspID, certHash)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(ctx.GetStub(), key, describe("identity", mspID, certHash))
	return h, asRecordsError(err)
}

// Account returns the history of organisation mspID's token account: every
// issuance, transfer, deposit, withdrawal and payout that changed it. For
// a member of the organisation or an auditor.
func (c *HistoryContract) Account(ctx contractapi.TransactionContextInterface, mspID string) ([]*records.HistoryEntry, error) {
	r, err := currentCaller(ctx)
	if err != nil {
		return nil, asRecordsError(err)
	}
	h, err := readAccountHistory(ctx, r, mspID)
	return h, asRecordsError(err)
}

// Price returns the history of the consortium price.
func (c *HistoryContract) Price(ctx contractapi.TransactionContextInterface) ([]*records.HistoryEntry, error) {
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.PriceKeyType)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(stub, key, "price")
	return h, asRecordsError(err)
}

// Payout returns the history of the payout of ref: recorded, then paid
// when it was queued. For a member of the payer's or the payee's
// organisation, or an auditor.
func (c *HistoryContract) Payout(ctx contractapi.TransactionContextInterface, ref string) ([]*records.HistoryEntry, error) {
	r, err := currentCaller(ctx)
	if err != nil {
		return nil, asRecordsError(err)
	}
	h, err := readPayoutHistory(ctx, r, ref)
	return h, asRecordsError(err)
}

// Batch returns the history of a delivery batch: its commit and its
// acceptance.
func (c *HistoryContract) Batch(ctx contractapi.TransactionContextInterface, id string) ([]*records.HistoryEntry, error) {
	if id == "" || len(id) > 256 {
		return nil, invalidf("batch id must be 1..256 characters")
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.BatchKeyType, id)
	if err != nil {
		return nil, invalidf("bad batch id: %v", err)
	}
	h, err := keyHistory(stub, key, describe("batch", id))
	return h, asRecordsError(err)
}

// Budget returns the history of organisation mspID's delivery budget per
// epoch: every SetBudget.
func (c *HistoryContract) Budget(ctx contractapi.TransactionContextInterface, mspID string) ([]*records.HistoryEntry, error) {
	key, err := records.BudgetKey(mspID)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(ctx.GetStub(), key, describe("budget", mspID))
	return h, asRecordsError(err)
}

// NodeEpoch returns the history of node id's capacity counter of epoch:
// every accepted batch that counted the node.
func (c *HistoryContract) NodeEpoch(ctx contractapi.TransactionContextInterface, id string, epoch int64) ([]*records.HistoryEntry, error) {
	if err := records.ValidateNodeID(id); err != nil {
		return nil, err
	}
	if epoch < 0 {
		return nil, invalidf("epoch must not be negative, got %d", epoch)
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.NodeEpochKeyType, id, records.EpochPad(epoch))
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(stub, key, describe("node epoch", id, records.EpochPad(epoch)))
	return h, asRecordsError(err)
}

// SLAScore returns the history of node id's SLA score: every sla:Score
// that changed it (sla:History has the breakdowns).
func (c *HistoryContract) SLAScore(ctx contractapi.TransactionContextInterface, id string) ([]*records.HistoryEntry, error) {
	key, err := records.SLAScoreKey(id)
	if err != nil {
		return nil, err
	}
	h, err := keyHistory(ctx.GetStub(), key, describe("SLA score", id))
	return h, asRecordsError(err)
}
