package contract

import "github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

// Version is the version reported in the contracts' metadata.
const Version = "1.0.0"

// Contracts returns the node, manifest, history, identity, token,
// delivery and audit contracts.
func Contracts() []contractapi.ContractInterface {
	return []contractapi.ContractInterface{
		NewNodeContract(),
		NewManifestContract(),
		NewHistoryContract(),
		NewIdentityContract(),
		NewTokenContract(),
		NewDeliveryContract(),
		NewAuditContract(),
	}
}

// NewChaincode returns the DCT chaincode with all its contracts. The node
// contract is the default one.
func NewChaincode() (*contractapi.ContractChaincode, error) {
	return contractapi.NewChaincode(Contracts()...)
}
