// Package edgeagent wires DCT's edge agent together: configuration (flags
// and DCT_AGENT_… environment variables, or a test-network run directory),
// the shard store, the node signing key, the mutual-TLS gRPC server and the
// agent's registration in the ledger's node registry, and, with
// --mesh-listen, its membership in the latency mesh shared with the
// gateways (pkg/mesh: failure detection and RTT estimates, under its node
// id, with its gRPC endpoint and zone as tags), with graceful shutdown
// (the agent leaves the mesh before it stops serving).
//
// The agent is deliberately light: it holds no ledger connection after it
// has registered, keeps no shard bytes in memory beyond the chunks in
// flight, and idles at a few tens of megabytes of resident memory at most.
package edgeagent
