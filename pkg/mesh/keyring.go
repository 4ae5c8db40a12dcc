package mesh

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Gossip encryption. Every member of a consortium's mesh holds the same
// keyring: a list of AES keys (16, 24 or 32 bytes). Messages are sealed
// with the first (primary) key and accepted under any key of the ring, so
// a key is rotated in three steps, each rolled out to every member before
// the next: add the new key as a secondary key, make it primary, remove
// the old key. A process without a key of the ring can neither join nor be
// heard: its messages fail authentication and are dropped.

// ErrKeyring marks an unusable keyring.
var ErrKeyring = errors.New("mesh keyring")

// KeySize is the size of the keys GenerateKey makes (AES-256).
const KeySize = 32

// Keyring is an ordered set of gossip keys; the first is the primary key.
type Keyring [][]byte

// Validate checks that the keyring is not empty, that every key is 16, 24
// or 32 bytes and that no key repeats.
func (k Keyring) Validate() error {
	if len(k) == 0 {
		return fmt.Errorf("%w: no key", ErrKeyring)
	}
	seen := map[string]bool{}
	for i, key := range k {
		switch len(key) {
		case 16, 24, 32:
		default:
			return fmt.Errorf("%w: key %d is %d bytes, want 16, 24 or 32", ErrKeyring, i+1, len(key))
		}
		if seen[string(key)] {
			return fmt.Errorf("%w: key %d repeats an earlier key", ErrKeyring, i+1)
		}
		seen[string(key)] = true
	}
	return nil
}

// Primary is the key messages are sealed with.
func (k Keyring) Primary() []byte {
	if len(k) == 0 {
		return nil
	}
	return k[0]
}

// String names the keyring without revealing a key: the number of keys
// and a short fingerprint of the primary key.
func (k Keyring) String() string {
	if len(k) == 0 {
		return "no keys"
	}
	return fmt.Sprintf("%d key(s), primary %s…", len(k), base64.RawStdEncoding.EncodeToString(k[0])[:6])
}

// GenerateKey returns a new random KeySize-byte key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyring, err)
	}
	return key, nil
}

// ParseKeyring reads a keyring file: one standard base64 key per line, the
// primary key first; blank lines and lines starting with # are ignored.
func ParseKeyring(data []byte) (Keyring, error) {
	var ring Keyring
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d is not a base64 key: %v", ErrKeyring, line, err)
		}
		ring = append(ring, key)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyring, err)
	}
	if err := ring.Validate(); err != nil {
		return nil, err
	}
	return ring, nil
}

// Format encodes the keyring in the file format ParseKeyring reads.
func (k Keyring) Format() []byte {
	var b bytes.Buffer
	b.WriteString("# DCT gossip keyring: base64 AES keys, the primary key first.\n")
	for _, key := range k {
		b.WriteString(base64.StdEncoding.EncodeToString(key))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// LoadKeyring reads and parses a keyring file.
func LoadKeyring(path string) (Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyring, err)
	}
	ring, err := ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ring, nil
}

// SetKeys installs keyring k on a running member: its keys are added, its
// first key becomes the primary key and every other key is removed. Roll a
// rotation out as described above, waiting until every member has a step
// before starting the next one.
func (m *Mesh) SetKeys(k Keyring) error {
	if err := k.Validate(); err != nil {
		return err
	}
	ring := m.keyring
	if ring == nil {
		return fmt.Errorf("%w: this member was started without a keyring", ErrKeyring)
	}
	for _, key := range k {
		if err := ring.AddKey(key); err != nil {
			return fmt.Errorf("%w: %v", ErrKeyring, err)
		}
	}
	if err := ring.UseKey(k.Primary()); err != nil {
		return fmt.Errorf("%w: %v", ErrKeyring, err)
	}
	keep := map[string]bool{}
	for _, key := range k {
		keep[string(key)] = true
	}
	for _, key := range ring.GetKeys() {
		if !keep[string(key)] {
			if err := ring.RemoveKey(key); err != nil {
				return fmt.Errorf("%w: %v", ErrKeyring, err)
			}
		}
	}
	return nil
}
