// Package edgeagent wires DCT's edge agent together: configuration (flags
// and DCT_AGENT_… environment variables, or a test-network run directory),
// the shard store, the node signing key, the mutual-TLS gRPC server and the
// agent's registration in the ledger's node registry, with graceful
// shutdown.
//
// The agent is deliberately light: it holds no ledger connection after it
// has registered, keeps no shard bytes in memory beyond the chunks in
// flight, and idles at a few tens of megabytes of resident memory at most.
package edgeagent
