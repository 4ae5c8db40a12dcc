package records

import (
	"encoding/base64"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
)

// IntegrityPrefix starts every Manifest.Integrity value.
const IntegrityPrefix = "sha384-"

// Manifest describes one published version of an object: its content digest
// and the erasure-coded shards that hold it. It is stored under
// ManifestKey(name, version). A manifest never carries a decryption key.
type Manifest struct {
	// Name is the object name (ObjectNamePattern, no "." or ".." segments).
	Name string `json:"name"`
	// Version is the object version (VersionPattern).
	Version string `json:"version"`
	// Size is the object size in bytes.
	Size int64 `json:"size"`
	// ContentType is the optional media type served with the object.
	ContentType string `json:"contentType,omitempty" metadata:",optional"`
	// SHA256 is the object's SHA-256 digest as 64 lowercase hex characters.
	SHA256 string `json:"sha256"`
	// Integrity is the Subresource Integrity value: "sha384-" followed by
	// the standard base64 encoding of the 48-byte SHA-384 digest.
	Integrity string `json:"integrity"`
	// K is the number of data shards (1..128), M the number of parity
	// shards (0..128).
	K int `json:"k"`
	M int `json:"m"`
	// StripeUnit is the number of bytes each shard holds per stripe (the
	// erasure-coding unit). It is not the size of a shard: every shard is
	// Shards[i].Size bytes, a whole number of stripe units.
	StripeUnit int64 `json:"stripeUnit"`
	// Shards lists exactly K+M shards; Shards[i].Index is i.
	Shards []Shard `json:"shards"`
	// Encryption describes how the object is encrypted (never the key).
	Encryption Encryption `json:"encryption"`

	// Publisher is the MSP ID of the publishing organisation, set by the
	// chaincode.
	Publisher string `json:"publisher"`
	// PublishedBy is the certificate hash (CertHash) of the publisher
	// identity the version was published for: supplied by the gateway that
	// authenticated the publisher, checked by the chaincode to be a
	// publisher of Publisher; set by the chaincode when a publisher records
	// its own manifest.
	PublishedBy string `json:"publishedBy,omitempty" metadata:",optional"`
	// Auction, when set, is the auction (records.Auction) whose contracts
	// place the shards: the chaincode checks that the holders are exactly
	// the contracted nodes of each shard.
	Auction string `json:"auction,omitempty" metadata:",optional"`
	// RecordedBy is the certificate hash of the identity that submitted
	// the recording transaction (a gateway, or the publisher itself), set
	// by the chaincode.
	RecordedBy string `json:"recordedBy,omitempty" metadata:",optional"`
	// CreatedAt is the timestamp of the recording transaction.
	CreatedAt string `json:"createdAt"`
	// TxID is the id of the recording transaction.
	TxID string `json:"txId"`
	// Keys are the version's surrogate keys (ValidateSurrogateKeys): tags
	// its publisher purges by (manifest:PurgeBy), served in the
	// Surrogate-Key response header.
	Keys []string `json:"keys,omitempty" metadata:",optional"`
	// Purged is the tombstone of a purged version, nil otherwise.
	Purged *Tombstone `json:"purged,omitempty" metadata:",optional"`

	// UpdatedAt is the timestamp of the last transaction that changed the
	// holders of a shard (manifest:UpdateHolders), empty if none did.
	UpdatedAt string `json:"updatedAt,omitempty" metadata:",optional"`
	// UpdatedBy is the MSP ID of the organisation that submitted that
	// transaction, set by the chaincode.
	UpdatedBy string `json:"updatedBy,omitempty" metadata:",optional"`
	// UpdateTxID is the id of that transaction.
	UpdateTxID string `json:"updateTxId,omitempty" metadata:",optional"`
}

// Shard is one erasure-coded shard of a manifest.
type Shard struct {
	// Index is the shard's position: 0..K-1 data, K..K+M-1 parity.
	Index int `json:"index"`
	// Hash is the shard's SHA-256 digest as 64 lowercase hex characters.
	Hash string `json:"hash"`
	// Size is the size of the whole shard in bytes.
	Size int64 `json:"size"`
	// Nodes lists the ids of the nodes holding the shard, without
	// duplicates.
	Nodes []string `json:"nodes"`
}

// Encryption describes the encryption of an object's content.
type Encryption struct {
	// Scheme names the encryption scheme (SchemePattern), for example
	// "aes-256-gcm".
	Scheme string `json:"scheme"`
	// ChunkSize is the size of the independently encrypted chunks, 0 when
	// the object is encrypted as a whole.
	ChunkSize int64 `json:"chunkSize"`
	// KeyID names the consortium master key the object key derives from
	// (1..64 of [A-Za-z0-9._-]); it is an identifier, never key material.
	KeyID string `json:"keyId,omitempty" metadata:",optional"`
	// Salt is the random, public per-object salt (standard base64 of 16..64
	// bytes) from which the object key is derived with the master key.
	Salt string `json:"salt,omitempty" metadata:",optional"`
}

// Tombstone records the purge of a manifest version.
type Tombstone struct {
	// Reason is why the version was purged (1..512 characters).
	Reason string `json:"reason"`
	// At is the timestamp of the purging transaction.
	At string `json:"at"`
	// By is the MSP ID of the purging organisation.
	By string `json:"by"`
	// ByCert is the certificate hash of the identity that submitted the
	// purge.
	ByCert string `json:"byCert,omitempty" metadata:",optional"`
	// TxID is the id of the purging transaction.
	TxID string `json:"txId"`
}

// String returns "name@version".
func (m *Manifest) String() string {
	if m == nil {
		return "<nil>"
	}
	return m.Name + "@" + m.Version
}

// IsPurged reports whether the version carries a tombstone.
func (m *Manifest) IsPurged() bool { return m != nil && m.Purged != nil }

// NodeIDs returns the distinct node ids named by the shards, sorted.
func (m *Manifest) NodeIDs() []string {
	if m == nil {
		return nil
	}
	var ids []string
	for _, s := range m.Shards {
		ids = append(ids, s.Nodes...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Validate checks the content fields of the manifest and, when present, the
// tombstone. The fields set by the chaincode (Publisher, CreatedAt, TxID and
// the last update's UpdatedAt, UpdatedBy, UpdateTxID) are not checked:
// DecodeManifestInput refuses them in client input. The error is an *Error
// with CodeInvalid.
func (m *Manifest) Validate() error {
	if m == nil {
		return invalidf("manifest is missing")
	}
	if err := ValidateObjectName(m.Name); err != nil {
		return err
	}
	if err := ValidateVersion(m.Version); err != nil {
		return err
	}
	if m.Size < 0 || m.Size > MaxObjectBytes {
		return invalidf("size must be in 0..%d, got %d", int64(MaxObjectBytes), m.Size)
	}
	if err := validateContentType(m.ContentType); err != nil {
		return err
	}
	if err := validateSHA256Hex("sha256", m.SHA256); err != nil {
		return err
	}
	if err := ValidateIntegrity(m.Integrity); err != nil {
		return err
	}
	if m.K < 1 || m.K > MaxK {
		return invalidf("k must be in 1..%d, got %d", MaxK, m.K)
	}
	if m.M < 0 || m.M > MaxM {
		return invalidf("m must be in 0..%d, got %d", MaxM, m.M)
	}
	if m.Auction != "" {
		if err := ValidateAuctionID(m.Auction); err != nil {
			return err
		}
	}
	if err := ValidateSurrogateKeys(m.Keys); err != nil {
		return err
	}
	if m.K+m.M > MaxShards {
		return invalidf("k+m must be at most %d, got %d", MaxShards, m.K+m.M)
	}
	if m.StripeUnit < 1 || m.StripeUnit > MaxStripeUnit {
		return invalidf("stripeUnit must be in 1..%d, got %d", MaxStripeUnit, m.StripeUnit)
	}
	if len(m.Shards) != m.K+m.M {
		return invalidf("shards must have exactly k+m = %d entries, got %d", m.K+m.M, len(m.Shards))
	}
	for i := range m.Shards {
		if err := m.Shards[i].validate(i); err != nil {
			return err
		}
	}
	return m.validateShardSizes()
}

// validateShardSizes checks that the shards are alike: every shard the same
// size, a whole number of stripe units, at most MaxShardBytes, and the k
// data shards together large enough for the content.
func (m *Manifest) validateShardSizes() error {
	size := m.Shards[0].Size
	for i, s := range m.Shards {
		if s.Size != size {
			return invalidf("shards[%d].size is %d, shards[0].size %d: every shard has the same size", i, s.Size, size)
		}
	}
	switch {
	case size > MaxShardBytes:
		return invalidf("shard size %d exceeds %d", size, int64(MaxShardBytes))
	case size%m.StripeUnit != 0:
		return invalidf("shard size %d is not a whole number of stripe units of %d", size, m.StripeUnit)
	case size*int64(m.K) < m.Size:
		return invalidf("k = %d shards of %d bytes cannot hold %d bytes of content", m.K, size, m.Size)
	}
	if err := m.Encryption.Validate(); err != nil {
		return err
	}
	if m.Purged != nil {
		if err := m.Purged.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Shard) validate(i int) error {
	if s.Index != i {
		return invalidf("shards[%d].index must be %d, got %d", i, i, s.Index)
	}
	if !sha256HexRe.MatchString(s.Hash) {
		return invalidf("shards[%d].hash must be a SHA-256 digest as 64 lowercase hex characters, got %s", i, quote(s.Hash))
	}
	if s.Size < 0 {
		return invalidf("shards[%d].size must not be negative, got %d", i, s.Size)
	}
	return ValidateShardNodes(fmt.Sprintf("shards[%d].nodes", i), s.Nodes)
}

// ValidateShardNodes checks a list of shard holders as Manifest.Validate does
// for each shard: at least one node id, each matching NodeIDPattern, none
// twice. field names the list in messages, for example "shards[2].nodes".
func ValidateShardNodes(field string, ids []string) error {
	if len(ids) == 0 {
		return invalidf("%s must not be empty", field)
	}
	seen := make(map[string]bool, len(ids))
	for j, id := range ids {
		if !nodeIDRe.MatchString(id) {
			return invalidf("%s[%d] %s must match %s", field, j, quote(id), NodeIDPattern)
		}
		if seen[id] {
			return invalidf("%s lists node %s twice", field, quote(id))
		}
		seen[id] = true
	}
	return nil
}

// Validate checks the encryption description.
func (e *Encryption) Validate() error {
	if err := matchField("encryption.scheme", e.Scheme, schemeRe, SchemePattern); err != nil {
		return err
	}
	if e.ChunkSize < 0 {
		return invalidf("encryption.chunkSize must not be negative, got %d", e.ChunkSize)
	}
	if e.KeyID != "" && !keyIDRe.MatchString(e.KeyID) {
		return invalidf("encryption.keyId must match %s, got %s", KeyIDPattern, quote(e.KeyID))
	}
	if e.Salt != "" {
		b, err := base64.StdEncoding.DecodeString(e.Salt)
		if err != nil || len(b) < 16 || len(b) > 64 {
			return invalidf("encryption.salt must be standard base64 of 16..64 bytes")
		}
	}
	return nil
}

// KeyIDPattern is the form of Encryption.KeyID.
const KeyIDPattern = `^[A-Za-z0-9._-]{1,64}$`

var keyIDRe = regexp.MustCompile(KeyIDPattern)

// Validate checks the tombstone's reason.
func (t *Tombstone) Validate() error {
	return validatePurgeReason("purged.reason", t.Reason)
}

// ValidateIntegrity checks a Subresource Integrity value: "sha384-" followed
// by the standard (padded) base64 encoding of exactly 48 bytes.
func ValidateIntegrity(s string) error {
	b64, ok := strings.CutPrefix(s, IntegrityPrefix)
	if !ok {
		return invalidf("integrity must start with %q, got %s", IntegrityPrefix, quote(s))
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return invalidf("integrity digest is not standard base64: %s", quote(b64))
	}
	if len(raw) != 48 {
		return invalidf("integrity digest must be 48 bytes (SHA-384), got %d", len(raw))
	}
	return nil
}

func validateContentType(ct string) error {
	if ct == "" {
		return nil
	}
	if len(ct) > MaxContentTypeLength {
		return invalidf("contentType must be at most %d bytes", MaxContentTypeLength)
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return invalidf("contentType %s is not a media type: %v", quote(ct), err)
	}
	return nil
}
