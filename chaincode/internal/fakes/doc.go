// Package fakes provides in-memory stand-ins for the Fabric interfaces the
// DCT contracts use, for unit tests: a world state with per-key history
// (Ledger), a chaincode stub with a real per-transaction write set (Stub), a
// client identity with a configurable MSP ID (Identity) and a transaction
// context (Context).
//
// A transaction sees only committed state (Fabric does not let a
// transaction read its own writes); its writes reach the ledger and the
// history only when Commit is called. Methods of shim.ChaincodeStubInterface
// that the contracts do not use are left unimplemented and panic.
package fakes
