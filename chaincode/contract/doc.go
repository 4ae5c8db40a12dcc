// Package contract implements the DCT chaincode on fabric-contract-api-go:
// the "node" contract (CDN node registry), the "manifest" contract (published
// object versions and their shard placement), the "identity" contract (the
// registry of roles), the "delivery" contract (gateways' batches of
// delivery receipts, verified by sampling before they are paid), the "sla"
// contract (attesters' per-epoch observations of the nodes and the scores
// computed from them) and the "history" contract (audit trail of ledger keys). Clients call functions as "name:Function",
// for example "manifest:Record".
//
// Every error returned to a client is a *records.Error, so the message the
// client receives contains "DCT-<CODE>: <message>" (see records.ParseError).
// A call either fails before writing anything or writes all its records:
// input and preconditions are checked before the first PutState.
// Timestamps come from the transaction timestamp, which is the same on every
// endorser.
package contract
