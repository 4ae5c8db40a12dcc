package codec

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"
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

// KeyCache memoizes the object keys derived from one master key, by salt:
// HKDF costs about as much as decrypting a small object, and a gateway
// serves the same objects again and again. It holds at most its size of
// keys (least recently used first out) and is safe for concurrent use.
type KeyCache struct {
	master []byte
	keys   *lru.Cache[string, Key]
}

// NewKeyCache returns a cache of at most size keys derived from master.
func NewKeyCache(master []byte, size int) (*KeyCache, error) {
	if len(master) < MinMasterKey {
		return nil, fmt.Errorf("%w: master key must be at least %d bytes, got %d", ErrInvalid, MinMasterKey, len(master))
	}
	c, err := lru.New[string, Key](size)
	if err != nil {
		return nil, fmt.Errorf("%w: key cache: %w", ErrInvalid, err)
	}
	return &KeyCache{master: master, keys: c}, nil
}

// Derive returns DeriveKey(master, salt), from the cache when it holds it.
func (c *KeyCache) Derive(salt []byte) (Key, error) {
	if k, ok := c.keys.Get(string(salt)); ok {
		return k, nil
	}
	k, err := DeriveKey(c.master, salt)
	if err != nil {
		return Key{}, err
	}
	c.keys.Add(string(salt), k)
	return k, nil
}
