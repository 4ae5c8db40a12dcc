// Package network holds DCT's Fabric configuration templates: the crypto
// material layout, the channel configuration (configtx) and the overlays that
// test-network merges onto Fabric's own core.yaml and orderer.yaml. The
// templates are embedded so that any tool of the project renders the same
// configuration; the external chaincode builder lives in network/builder.
package network
