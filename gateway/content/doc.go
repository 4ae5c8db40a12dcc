// Package content is the gateway's publish and serve logic, independent of
// HTTP: it encrypts and erasure-codes an upload while streaming it to the
// edge agents, records the manifest on the ledger, and reads objects back by
// fetching, verifying and decoding shards.
//
// It talks to the world through narrow interfaces (Ledger, Agents, Agent) so
// that tests can use the in-memory fakes of package contenttest; the gateway
// wires in pkg/ledger and the gRPC agent pool.
//
// Errors are the sentinels of errors.go, wrapped with %w. Ledger errors are
// mapped to them in one function (ledgerErr): the chaincode's refusals for
// a record's state (records.ErrConflict, records.ErrFailedPrecondition) and
// lost concurrency races (ledger.ErrConflict) become ErrConflict. Agent
// implementations report the agent errors (ErrShardNotFound,
// ErrShardCorrupt, ErrAgentFull, ...); package agents maps the agents' gRPC
// statuses to them.
//
// Nothing is half-published: shards are pushed first and the manifest is
// recorded last; a publish that fails deletes the shards it pushed, so no
// manifest ever points at missing shards.
//
// Looked-up manifests are cached; Watch follows the ledger's manifest
// events (ManifestEvents, *ledger.Client) and drops a cached manifest as
// soon as a committed transaction changes it, so a new version is served
// within the event's delay. ManifestTTL is only the fallback while the
// event stream is down.
package content
