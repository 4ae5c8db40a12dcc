package codec

import "errors"

var (
	// ErrInvalid marks a malformed argument: a layout, redundancy, range,
	// key or hash that cannot be used.
	ErrInvalid = errors.New("codec: invalid argument")
	// ErrCorrupt marks data that fails authentication or reconstruction:
	// a tampered or rotten shard, or a wrong key.
	ErrCorrupt = errors.New("codec: corrupt data")
	// ErrTooFewShards means fewer than K shards were given to a decoder.
	ErrTooFewShards = errors.New("codec: too few shards")
)
