// Package netdesc is the description of a DCT test network's run directory
// (network.json): where its organisations' crypto material, peers,
// orderers, agents and gateways are.
//
// The test-network launcher writes it; the gateway and the edge agent read
// it for their --network-dir convenience. It depends on pkg/ledger only, so
// production binaries may import it without linking the launcher.
package netdesc
