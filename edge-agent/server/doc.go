// Package server is the edge agent's gRPC face: the dct.v1 ShardService
// over a shard store, the standard gRPC health service, and the mutual-TLS
// setup.
//
// Who may call: clients authenticate with their enrollment (MSP)
// certificate, the identity they sign ledger transactions with, through
// pkg/memberauth. The TLS handshake (TLSConfig) requires a certificate that
// chains to a member organisation's MSP CA (a memberauth.Verifier,
// "MSPID=ca.pem"); the CA that verifies the chain names the caller's MSP.
// The Authorizer then looks the identity's roles (MSP id, certificate hash)
// up in the ledger's registry through a memberauth.RoleCache (NewRoleCache:
// a bounded LRU keeping a grant for the role cache TTL, a refusal for
// DenyTTL of it, a failed lookup not at all) and admits to the shard
// service only identities granted the gateway role. The health service
// needs only the handshake.
//
// What may be deleted: DeleteShard names the manifest shard (object,
// version, index). The agent deletes only when manifest:Get has that hash
// at that index and the version is purged or this node is no longer among
// the shard's holders. A publish that fails before its manifest is
// recorded withdraws its shards under a second rule: Uploads remembers,
// for a bounded time and count, the shards the agent did not hold before,
// with the identity that uploaded them and the object they were uploaded
// for; that identity alone, naming that object, may delete them while no
// live version of the object has this node hold them. A shard another
// identity uploaded too, or the agent held already, is nobody's to
// withdraw. Shards that outlive the record without any manifest naming
// them (a gateway that crashed mid-publish, an agent restarted before the
// cleanup) stay on disk as orphans: they count against capacity until an
// operator removes them; a ledger-driven sweep is future work.
//
// Uploads that send nothing for Config.UploadIdleTimeout are aborted and
// their reserved capacity released.
//
// What was served: Served counts the shard bytes GetShard sent, per epoch
// and per calling gateway identity (bounded: the last epochs, a bounded
// number of identities each), and logs each ended epoch, so that the
// node's operator can compare them with what the gateways' batches claim
// for the node on the ledger. Nodes do not countersign receipts.
//
// Shards are streamed in messages of at most 1 MiB; the first message of a
// GetShard stream carries the shard's size. Store, protocol and
// authorisation errors become gRPC status codes in one place, Status:
// UNAUTHENTICATED (no member identity), PERMISSION_DENIED (not a gateway,
// or the ledger does not let the shard go), UNAVAILABLE (the ledger did not
// answer), DEADLINE_EXCEEDED (idle upload).
package server
