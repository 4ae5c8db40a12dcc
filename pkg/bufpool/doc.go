// Package bufpool is a gRPC buffer pool (mem.BufferPool) that does not
// clear the buffers it hands out: gRPC fills every buffer it gets before
// anyone reads it, and clearing is a pass over every byte a connection
// moves. Agent connections of the gateway and the agents' gRPC server use
// Shared.
package bufpool
