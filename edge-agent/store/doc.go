// Package store is the edge agent's shard store: content-addressed files on
// local disk, keyed by the lowercase hex SHA-256 of their bytes.
//
// Layout of a store directory:
//
//	LOCK                    held (flock) while a Store has the directory open
//	shards/<hash>           a shard's bytes
//	shards/<hash>.blocks    its sidecar: the SHA-256 of every block (64 KiB by
//	                        default) with a checksum of its own
//	shards/.upload-*        uploads in progress (never served)
//	shards/.sidecar-*       sidecars being written (never served)
//	quarantine/<hash>.<ns>  shards found corrupt, set aside
//
// Writes are crash safe. An upload streams into a temporary file while its
// whole hash and block hashes are computed; Commit compares the declared
// hash (a mismatch keeps nothing), fsyncs the file and its sidecar, renames
// the sidecar and then the shard into place, and fsyncs the directory. A
// shard is served only under its final name, so a process killed at any
// point never leaves a partial shard that is served: temporary files are
// removed when the store opens, sidecars without a shard are removed, and a
// shard whose sidecar did not make it to disk is re-hashed (kept when its
// bytes match its name, quarantined otherwise).
//
// Reads verify too. Every block a read touches is hashed and compared with
// the sidecar before any of its bytes reach the caller, and a read of the
// whole shard also checks the shard hash, so bit rot is reported as
// ErrCorrupt and never served. A corrupt shard is moved to quarantine/ and
// no longer counted or served.
//
// Capacity is enforced on the size an upload declares: Create fails with
// ErrNoSpace before any byte is written when the shard does not fit next to
// the stored shards and the uploads in progress, whose sizes are reserved
// until they commit or abort. Used bytes are recomputed from disk on Open.
package store
