// Package records defines the DCT ledger records: the nodes of the content
// delivery network, the manifests of published object versions, the per-name
// object heads and the history entries returned to auditors.
//
// The package is shared by the chaincode, the gateways and the auditors, so it
// imports only the standard library. Every record has a stable JSON encoding
// with explicit lowerCamel field names; fields that may be absent carry the
// `metadata:",optional"` tag understood by fabric-contract-api-go, whose
// runtime schema check would otherwise refuse them.
//
// Errors are reported as *Error values with a Code. Their text has the form
// "DCT-<CODE>: <message>", which ParseError recovers from the longer messages
// clients receive from Fabric.
//
// Caller input is decoded with DecodeNodeInput and DecodeManifestInput, which
// refuse unknown fields (a manifest never carries a key) and validate the
// result.
package records
