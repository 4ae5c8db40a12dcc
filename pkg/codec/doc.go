// Package codec is DCT's pure content codec, shared by gateways and edge
// agents: it encrypts an object in fixed-size authenticated chunks, stripes
// the ciphertext over k data shards, adds m Reed-Solomon parity shards, hashes
// every shard, and builds the manifest the chaincode records. It neither logs
// nor does I/O: callers feed it bytes and receive bytes through callbacks.
//
// # Layout
//
// An object of Size plaintext bytes is cut into chunks of ChunkSize bytes
// (the last one shorter; an empty object has one empty chunk). Each chunk is
// sealed with AES-256-GCM under the object key, with the chunk index as the
// nonce and the object size and chunk index as additional data, so chunks
// cannot be reordered, truncated or moved between objects. Each sealed chunk
// is TagSize bytes longer than its plaintext.
//
// The ciphertext is cut into stripes of K*Unit bytes; stripe s gives bytes
// [s*K*Unit+i*Unit, s*K*Unit+(i+1)*Unit) to data shard i at shard offset
// s*Unit, and M parity units computed over the stripe's data units. The last
// stripe is zero-padded. Every shard therefore has Stripes*Unit bytes
// (Layout.ShardSize: "shard size" always means the whole shard, while Unit,
// recorded in the manifest as StripeUnit, is its share of one stripe), and a
// byte range of the plaintext maps to one contiguous byte range of every
// shard (Layout.PlanRange), so a Range request fetches and decrypts only the
// stripes and chunks it touches.
//
// # Tiny objects
//
// The unit is chosen per object: the ciphertext divided by K, rounded up to
// UnitAlign bytes, capped at the configured maximum. A 600-byte stylesheet
// thus becomes K+M shards of 192 bytes (K=4, M=2), 1,152 bytes stored in all,
// instead of K+M maximum-size units of padding; its K fetches run in
// parallel, so a cold read costs one round trip to the slowest of K agents.
// BenchmarkTinyObject compares this with a fixed maximum unit.
package codec
