package contract

import (
	"slices"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// NodeContractName is the name clients use to call the node contract.
const NodeContractName = "node"

// NodeContract is the registry of CDN nodes. A node belongs to the
// organisation (MSP ID) that registered it; only that organisation may
// change it.
type NodeContract struct {
	contractapi.Contract
}

// NewNodeContract returns the node contract.
func NewNodeContract() *NodeContract {
	return &NodeContract{Contract: newContract(NodeContractName, "DCT node registry", "Registration and lifecycle of DCT CDN nodes")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *NodeContract) GetEvaluateTransactions() []string {
	return []string{"Get", "List"}
}

// Register records a new node owned by the caller's organisation and
// returns it. nodeJSON is a records.NodeInput; its optional org must be the
// caller's MSP ID.
func (c *NodeContract) Register(ctx contractapi.TransactionContextInterface, nodeJSON string) (*records.Node, error) {
	n, err := registerNode(ctx, nodeJSON)
	return n, asRecordsError(err)
}

// Update replaces the caller-supplied fields of an active node owned by the
// caller's organisation and returns it. Owner, status and registration time
// are kept.
func (c *NodeContract) Update(ctx contractapi.TransactionContextInterface, nodeJSON string) (*records.Node, error) {
	n, err := updateNode(ctx, nodeJSON)
	return n, asRecordsError(err)
}

// Deactivate marks an active node of the caller's organisation inactive,
// with an optional reason, and returns it.
func (c *NodeContract) Deactivate(ctx contractapi.TransactionContextInterface, id string, reason string) (*records.Node, error) {
	n, err := setNodeStatus(ctx, id, records.NodeStatusInactive, reason)
	return n, asRecordsError(err)
}

// Reactivate marks an inactive node of the caller's organisation active and
// returns it.
func (c *NodeContract) Reactivate(ctx contractapi.TransactionContextInterface, id string) (*records.Node, error) {
	n, err := setNodeStatus(ctx, id, records.NodeStatusActive, "")
	return n, asRecordsError(err)
}

// Get returns a node.
func (c *NodeContract) Get(ctx contractapi.TransactionContextInterface, id string) (*records.Node, error) {
	if err := records.ValidateNodeID(id); err != nil {
		return nil, err
	}
	n, err := loadNode(ctx.GetStub(), id)
	return n, asRecordsError(err)
}

// List returns every node, sorted by id.
func (c *NodeContract) List(ctx contractapi.TransactionContextInterface) ([]*records.Node, error) {
	nodes, err := listRecords[records.Node](ctx.GetStub(), records.NodeKeyType)
	if err != nil {
		return nil, asRecordsError(err)
	}
	slices.SortFunc(nodes, func(a, b *records.Node) int { return strings.Compare(a.ID, b.ID) })
	return nodes, nil
}

func registerNode(ctx txContext, nodeJSON string) (*records.Node, error) {
	who, err := authorize(ctx, "node:Register")
	if err != nil {
		return nil, err
	}
	caller := who.MSPID
	in, err := records.DecodeNodeInput([]byte(nodeJSON))
	if err != nil {
		return nil, err
	}
	if in.Org != "" && in.Org != caller {
		return nil, forbiddenf("org %s differs from the caller's MSP ID %s: a node is owned by the organisation that registers it", in.Org, caller)
	}
	if err := records.CheckNodeNamespace(in.ID, caller); err != nil {
		return nil, err
	}
	if err := mayActForNode(who, in.ID); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.NodeKeyType, in.ID)
	if err != nil {
		return nil, err
	}
	if _, found, err := getRecord[records.Node](stub, key, describe("node", in.ID)); err != nil {
		return nil, err
	} else if found {
		return nil, conflictf("%s is already registered", describe("node", in.ID))
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	n := &records.Node{
		Status:       records.NodeStatusActive,
		RegisteredAt: tx.time,
	}
	applyNodeInput(n, in, caller, tx)
	if err := putRecord(stub, key, describe("node", n.ID), n); err != nil {
		return nil, err
	}
	if err := setOwnerEndorsement(stub, key, caller); err != nil {
		return nil, err
	}
	return n, nil
}

func updateNode(ctx txContext, nodeJSON string) (*records.Node, error) {
	who, err := authorize(ctx, "node:Update")
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeNodeInput([]byte(nodeJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	n, err := loadNode(stub, in.ID)
	if err != nil {
		return nil, err
	}
	if err := checkNodeOwner(n, who.MSPID, "update"); err != nil {
		return nil, err
	}
	if err := mayActForNode(who, n.ID); err != nil {
		return nil, err
	}
	if in.Org != "" && in.Org != n.Org {
		return nil, forbiddenf("org %s differs from the owner %s of %s: ownership cannot be transferred", in.Org, n.Org, describe("node", n.ID))
	}
	if !n.Active() {
		return nil, preconditionf("%s is inactive; reactivate it before updating", describe("node", n.ID))
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	applyNodeInput(n, in, n.Org, tx)
	if err := putNode(stub, n); err != nil {
		return nil, err
	}
	return n, nil
}

func setNodeStatus(ctx txContext, id string, status records.NodeStatus, reason string) (*records.Node, error) {
	fn := "node:Deactivate"
	if status == records.NodeStatusActive {
		fn = "node:Reactivate"
	}
	who, err := authorize(ctx, fn)
	if err != nil {
		return nil, err
	}
	caller := who.MSPID
	if err := records.ValidateNodeID(id); err != nil {
		return nil, err
	}
	if err := records.ValidateDeactivationReason(reason); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	n, err := loadNode(stub, id)
	if err != nil {
		return nil, err
	}
	verb := "deactivate"
	if status == records.NodeStatusActive {
		verb = "reactivate"
	}
	if err := checkNodeOwner(n, caller, verb); err != nil {
		return nil, err
	}
	if err := mayActForNode(who, id); err != nil {
		return nil, err
	}
	if n.Status == status {
		return nil, preconditionf("%s is already %s", describe("node", id), status)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	n.Status = status
	n.DeactivationReason = reason
	n.UpdatedAt = tx.time
	n.LastTxID = tx.id
	if err := putNode(stub, n); err != nil {
		return nil, err
	}
	return n, nil
}

func applyNodeInput(n *records.Node, in *records.NodeInput, org string, tx txInfo) {
	n.ID = in.ID
	n.Org = org
	n.Endpoint = in.Endpoint
	n.Zone = in.Zone
	n.Latitude = in.Latitude
	n.Longitude = in.Longitude
	n.StorageBytes = in.StorageBytes
	n.BandwidthBps = in.BandwidthBps
	n.PublicKey = in.PublicKey
	n.UpdatedAt = tx.time
	n.LastTxID = tx.id
}

func checkNodeOwner(n *records.Node, caller, verb string) error {
	if n.Org != caller {
		return forbiddenf("%s belongs to %s; %s may not %s it", describe("node", n.ID), n.Org, caller, verb)
	}
	return nil
}

// loadNode returns the node with a valid id, NOT_FOUND when unknown.
func loadNode(stub shim.ChaincodeStubInterface, id string) (*records.Node, error) {
	key, err := compositeKey(stub, records.NodeKeyType, id)
	if err != nil {
		return nil, err
	}
	n, found, err := getRecord[records.Node](stub, key, describe("node", id))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s is not registered", describe("node", id))
	}
	return n, nil
}

func putNode(stub shim.ChaincodeStubInterface, n *records.Node) error {
	key, err := compositeKey(stub, records.NodeKeyType, n.ID)
	if err != nil {
		return err
	}
	return putRecord(stub, key, describe("node", n.ID), n)
}
