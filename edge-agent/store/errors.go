package store

import "errors"

// Errors returned by the store, wrapped with details; test with errors.Is.
var (
	// ErrInvalid: a malformed argument (hash, size, offset).
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound: the store holds no shard with that hash.
	ErrNotFound = errors.New("shard not found")
	// ErrOutOfRange: a read range beyond the end of the shard.
	ErrOutOfRange = errors.New("range out of bounds")
	// ErrNoSpace: the shard does not fit in the remaining capacity.
	ErrNoSpace = errors.New("not enough space")
	// ErrHashMismatch: the bytes uploaded do not have the declared hash.
	ErrHashMismatch = errors.New("hash mismatch")
	// ErrSizeMismatch: the bytes uploaded differ from the declared size.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrCorrupt: stored bytes no longer match their hashes (bit rot,
	// truncation, tampering); the shard is not served.
	ErrCorrupt = errors.New("shard corrupt")
	// ErrUploadDone: the upload was already committed or aborted.
	ErrUploadDone = errors.New("upload already finished")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store closed")
	// ErrLocked: another process has the store directory open.
	ErrLocked = errors.New("store directory in use")
)
