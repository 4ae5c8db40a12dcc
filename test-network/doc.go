// Package testnetwork brings a real Hyperledger Fabric 2.5 network up and down
// on this machine as native processes: a Raft orderer organisation (one or
// three orderers), one peer per bank organisation with LevelDB, TLS
// everywhere on loopback, the channel created through the channel
// participation API, and the DCT chaincode deployed through the full
// lifecycle as a service (CCaaS) behind DCT's external builder.
//
// All state lives under one run directory. Up writes network.json there
// (read it back with Load) and a standard Fabric connection profile per
// organisation, so that any Fabric client can connect. Down stops every
// process Up started and waits until their ports are free.
package testnetwork
