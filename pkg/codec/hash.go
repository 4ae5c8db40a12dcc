package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest of a shard or object.
type Hash [sha256.Size]byte

// String is the lowercase hex form used on the ledger and the wire.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash parses 64 lowercase hex characters.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("%w: a hash is %d hex characters, got %d", ErrInvalid, 2*len(h), len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return h, fmt.Errorf("%w: hash must be lowercase hex", ErrInvalid)
		}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return h, nil
}

// HashShard returns the SHA-256 of a shard.
func HashShard(data []byte) Hash { return sha256.Sum256(data) }

// VerifyShard reports whether data hashes to want.
func VerifyShard(data []byte, want Hash) bool {
	got := sha256.Sum256(data)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
