// Package server is the edge agent's gRPC face: the dct.v1 ShardService
// over a shard store, the standard gRPC health service, and the mutual-TLS
// setup that admits only clients whose certificate a consortium TLS CA
// issued.
//
// Shards are streamed in messages of at most 1 MiB; the first message of a
// GetShard stream carries the shard's size. Store and protocol errors become
// gRPC status codes in one place, Status.
package server
