// Package serviceconfig holds the settings the DCT services (dct-gateway
// and dct-agent) share, registered once through pkg/settings: where the
// ledger is and which identity acts on it (Ledger), and the gossip mesh
// (Mesh).
//
// Ledger settings come, in this order of precedence, from explicit flags
// (--peer-address, --peer-tls-ca, --msp-id, --cert, --key, --channel,
// --chaincode), from a standard Fabric connection profile and an MSP
// directory (--connection-profile, --peer, --msp-dir), and from a test
// network's run directory (--network-dir, --org); channel and chaincode
// default to ledger.DefaultChannel and ledger.DefaultChaincode.
package serviceconfig
