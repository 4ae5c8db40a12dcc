package contract

import (
	"log/slog"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Version is the version reported in the contracts' metadata.
const Version = "1.0.0"

// Option configures the contracts.
type Option func(*options)

type options struct {
	log *slog.Logger
}

// WithLogger logs what the contracts report (the delivery contract: every
// Prove with its verification time) to log.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// Contracts returns the node, manifest, history, identity, token,
// delivery, audit, auction and SLA contracts.
func Contracts(opts ...Option) []contractapi.ContractInterface {
	return []contractapi.ContractInterface{
		NewNodeContract(),
		NewManifestContract(),
		NewHistoryContract(),
		NewIdentityContract(),
		NewTokenContract(),
		NewDeliveryContract(opts...),
		NewAuditContract(),
		NewAuctionContract(),
		NewSLAContract(),
	}
}

// NewChaincode returns the DCT chaincode with all its contracts. The node
// contract is the default one.
func NewChaincode(opts ...Option) (*contractapi.ContractChaincode, error) {
	return contractapi.NewChaincode(Contracts(opts...)...)
}
