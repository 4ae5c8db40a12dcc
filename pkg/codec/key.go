package codec

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Scheme names the encryption scheme recorded in manifests.
const Scheme = "aes-256-gcm-chunked/v1"

const (
	// MinMasterKey is the shortest accepted master key.
	MinMasterKey = 32
	// MinSalt and MaxSalt bound the per-object salt.
	MinSalt, MaxSalt = 16, 64
)

// Key is an object's content key. It is derived from the consortium master
// key and the object's random salt and never leaves the gateways.
type Key struct {
	b [32]byte
	// set distinguishes a derived key from the zero value.
	set bool
}

// String never reveals key material.
func (Key) String() string { return "codec.Key(redacted)" }

// DeriveKey derives an object key from the master key and the object's
// public random salt (HKDF-SHA256).
func DeriveKey(master, salt []byte) (Key, error) {
	if len(master) < MinMasterKey {
		return Key{}, fmt.Errorf("%w: master key must be at least %d bytes, got %d", ErrInvalid, MinMasterKey, len(master))
	}
	if len(salt) < MinSalt || len(salt) > MaxSalt {
		return Key{}, fmt.Errorf("%w: salt must be %d..%d bytes, got %d", ErrInvalid, MinSalt, MaxSalt, len(salt))
	}
	raw, err := hkdf.Key(sha256.New, master, salt, "dct object key v1", 32)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var k Key
	copy(k.b[:], raw)
	k.set = true
	return k, nil
}

// KeyID names a master key without revealing it: 16 hex characters of an
// HMAC of a fixed label under the key.
func KeyID(master []byte) string {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("dct master key id v1"))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}
