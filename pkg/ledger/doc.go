// Package ledger is DCT's typed client of the DCT chaincode, built on the
// Fabric Gateway client (github.com/hyperledger/fabric-gateway): it talks to
// the peer's gateway service, not to DCT's HTTP gateway (package gateway).
//
// The gRPC connection to a peer is owned by the caller: open one long-lived
// connection per peer with Dial, hand it to New, and close it after the
// Client. Every call takes a context first. Chaincode refusals come back as
// *records.Error values wrapped with %w, so callers test them with
// errors.Is(err, records.ErrNotFound) and friends; transport failures wrap
// ErrUnavailable and lost optimistic-concurrency races wrap ErrConflict.
//
// Services describe their peer and identity with Settings and connect with
// Connect, the one way to a Client they own. Settings come from standard
// Fabric material: LoadProfile reads a connection profile (JSON or YAML;
// the peer's TLS CA inline or as a file, with the TLS server name
// override) and MSPIdentity finds the certificate and key of an MSP
// directory.
//
// ManifestEvents subscribes to the chaincode's manifest events
// (records.ManifestEventName) through the Fabric Gateway's chaincode
// events: typed records.ManifestEvent values with the block they were
// committed in; a broken subscription is resumed with ResumeAfter the last
// event's checkpoint. SLAEvents does the same for the epochs sla:Score
// scores (records.SLAEventName, records.SLAEpoch).
package ledger
