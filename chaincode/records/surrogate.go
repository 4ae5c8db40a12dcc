package records

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SurrogateKeyPattern is the form of a surrogate key (a tag a publisher
// attaches to object versions so that it can purge them together).
const SurrogateKeyPattern = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`

// Bounds of surrogate keys and of purges by key.
const (
	// MaxSurrogateKeys is how many surrogate keys one version may carry.
	MaxSurrogateKeys = 16
	// MaxPurgeTargets is how many live versions one purge by key may
	// reach: a key tagging more is refused (purge in parts, by name or by
	// narrower keys), which bounds the transaction and its event.
	MaxPurgeTargets = 128
)

// Composite key type of the surrogate key index: attributes [publisher MSP
// id, key, name, version], one entry per live (not purged) version tagged
// with the key. Keys are namespaced by the publishing organisation: a purge
// by key reaches the caller's organisation's versions only.
const SurrogateKeyType = "dct.skey"

// PurgeRecordKeyType is the composite key type of purge records:
// attributes [transaction id].
const PurgeRecordKeyType = "dct.purge"

var surrogateKeyRe = regexp.MustCompile(SurrogateKeyPattern)

// SurrogateKey is one tag of an object version.
type SurrogateKey string

// Validate checks the key against SurrogateKeyPattern.
func (k SurrogateKey) Validate() error {
	return matchField("surrogate key", string(k), surrogateKeyRe, SurrogateKeyPattern)
}

// String returns the key.
func (k SurrogateKey) String() string { return string(k) }

// ValidateSurrogateKeys checks the keys of one version: at most
// MaxSurrogateKeys, each valid, none twice.
func ValidateSurrogateKeys(keys []string) error {
	if len(keys) > MaxSurrogateKeys {
		return invalidf("a version carries at most %d surrogate keys, got %d", MaxSurrogateKeys, len(keys))
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if err := matchField(fmt.Sprintf("keys[%d]", i), k, surrogateKeyRe, SurrogateKeyPattern); err != nil {
			return err
		}
		if seen[k] {
			return invalidf("keys lists surrogate key %s twice", quote(k))
		}
		seen[k] = true
	}
	return nil
}

// ParseSurrogateKeys splits a Surrogate-Key header value (keys separated
// by spaces, as CDNs write it) and validates the keys.
func ParseSurrogateKeys(header string) ([]string, error) {
	keys := strings.Fields(header)
	if len(keys) == 0 {
		return nil, nil
	}
	if err := ValidateSurrogateKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// SurrogateIndexKey returns the index key of one tagged version.
func SurrogateIndexKey(publisher, key, name, version string) (string, error) {
	return CompositeKey(SurrogateKeyType, publisher, key, name, version)
}

// PurgeMode says what a purge does.
type PurgeMode string

// The purge modes.
const (
	// PurgeHard tombstones the versions (they answer 410 Gone from then
	// on) and every gateway drops their manifests and decoded content.
	PurgeHard PurgeMode = "hard"
	// PurgeSoft changes no version: every gateway marks its cached
	// manifests of the versions stale, so that the next request
	// revalidates them against the ledger (the decoded content is kept and
	// reused when the ledger still lists the version).
	PurgeSoft PurgeMode = "soft"
)

// Validate checks the mode.
func (m PurgeMode) Validate() error {
	if m != PurgeHard && m != PurgeSoft {
		return invalidf("purge mode %s: want hard or soft", quote(string(m)))
	}
	return nil
}

// String returns the mode's name.
func (m PurgeMode) String() string { return string(m) }

// PurgeRequest asks for a purge by surrogate key, or a soft purge by name
// (a hard purge by name is manifest:Purge). Exactly one of Key and Name is
// set; Version narrows a purge by name to one version (default: every
// live version).
type PurgeRequest struct {
	Key     string    `json:"key,omitempty" metadata:",optional"`
	Name    string    `json:"name,omitempty" metadata:",optional"`
	Version string    `json:"version,omitempty" metadata:",optional"`
	Mode    PurgeMode `json:"mode"`
	Reason  string    `json:"reason"`
}

// Validate checks the request.
func (r *PurgeRequest) Validate() error {
	if r == nil {
		return invalidf("purge request is missing")
	}
	if err := r.Mode.Validate(); err != nil {
		return err
	}
	if err := ValidatePurgeReason(r.Reason); err != nil {
		return err
	}
	switch {
	case r.Key != "" && r.Name != "":
		return invalidf("a purge names a surrogate key or an object name, not both")
	case r.Key != "":
		if r.Version != "" {
			return invalidf("a purge by key takes no version")
		}
		return SurrogateKey(r.Key).Validate()
	case r.Name != "":
		if r.Mode == PurgeHard {
			return invalidf("a hard purge by name is manifest:Purge (it also deletes the shards); purge by key or soft-purge here")
		}
		if err := ValidateObjectName(r.Name); err != nil {
			return err
		}
		if r.Version != "" {
			return ValidateVersion(r.Version)
		}
		return nil
	default:
		return invalidf("a purge names a surrogate key or an object name")
	}
}

// String describes the request: "hard purge of key k" or "soft purge of
// name[@version]".
func (r *PurgeRequest) String() string {
	if r == nil {
		return "<nil>"
	}
	if r.Key != "" {
		return fmt.Sprintf("%s purge of key %s", r.Mode, r.Key)
	}
	if r.Version != "" {
		return fmt.Sprintf("%s purge of %s@%s", r.Mode, r.Name, r.Version)
	}
	return fmt.Sprintf("%s purge of %s", r.Mode, r.Name)
}

// DecodePurgeRequest decodes caller JSON into a PurgeRequest, refusing
// unknown fields and trailing data, and validates it.
func DecodePurgeRequest(data []byte) (*PurgeRequest, error) {
	var r PurgeRequest
	if err := decodeStrict(data, &r, "purge request"); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// PurgeRecord is the ledger's record of a purge by key or soft purge by
// name, stored under PurgeRecordKey(TxID).
type PurgeRecord struct {
	// Key, Name, Version, Mode and Reason are the request's.
	Key     string    `json:"key,omitempty" metadata:",optional"`
	Name    string    `json:"name,omitempty" metadata:",optional"`
	Version string    `json:"version,omitempty" metadata:",optional"`
	Mode    PurgeMode `json:"mode"`
	Reason  string    `json:"reason"`
	// Publisher is the MSP id of the purging organisation: only its
	// versions are reached.
	Publisher string `json:"publisher"`
	// ByCert is the certificate hash of the identity that submitted the
	// purge.
	ByCert string `json:"byCert"`
	// Targets are the versions reached, "name@version", sorted.
	Targets []string `json:"targets"`
	// At and TxID are the purging transaction's timestamp and id.
	At   string `json:"at"`
	TxID string `json:"txId"`
}

// Request returns the purge's request.
func (r *PurgeRecord) Request() PurgeRequest {
	return PurgeRequest{Key: r.Key, Name: r.Name, Version: r.Version, Mode: r.Mode, Reason: r.Reason}
}

// PurgeRecordKey returns the ledger key of a purge record.
func PurgeRecordKey(txID string) (string, error) {
	if txID == "" || len(txID) > 128 {
		return "", invalidf("transaction id must be 1 to 128 characters")
	}
	return CompositeKey(PurgeRecordKeyType, txID)
}

// ValidateTargets checks a purge's targets: 1..MaxPurgeTargets valid
// "name@version" values.
func ValidateTargets(targets []string) error {
	if len(targets) == 0 || len(targets) > MaxPurgeTargets {
		return invalidf("a purge reaches 1 to %d versions, got %d", MaxPurgeTargets, len(targets))
	}
	for i, t := range targets {
		name, version, ok := strings.Cut(t, "@")
		if !ok {
			return invalidf("targets[%d] %s is not name@version", i, quote(t))
		}
		if _, err := ManifestKey(name, version); err != nil {
			return err
		}
	}
	return nil
}

// HasKey reports whether the manifest carries surrogate key k.
func (m *Manifest) HasKey(k string) bool { return m != nil && slices.Contains(m.Keys, k) }
