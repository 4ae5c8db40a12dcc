package records

import (
	"encoding/json"
	"fmt"
)

// ManifestEventName is the name of the chaincode event every transaction
// that changes a manifest sets (manifest:Record, manifest:Purge,
// manifest:UpdateHolders): one event per transaction, delivered to
// subscribers once the transaction is committed valid. Gateways learn new
// versions from it.
const ManifestEventName = "dct.manifest"

// ManifestEventKind says what a manifest transaction did.
type ManifestEventKind string

// The kinds of manifest events.
const (
	// EventRecord: a new version was recorded; it is the object's latest.
	EventRecord ManifestEventKind = "record"
	// EventPurge: the version was purged; the latest may have changed.
	EventPurge ManifestEventKind = "purge"
	// EventHolders: the holders of a shard of the version changed (a
	// repair).
	EventHolders ManifestEventKind = "holders"
)

// Valid reports whether k is a known kind.
func (k ManifestEventKind) Valid() bool {
	return k == EventRecord || k == EventPurge || k == EventHolders
}

// String returns the kind's name.
func (k ManifestEventKind) String() string { return string(k) }

// ManifestEvent is the payload of a ManifestEventName event (JSON): which
// version of which object changed, how, and in which transaction. It names
// public ledger facts only.
type ManifestEvent struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Kind    ManifestEventKind `json:"kind"`
	TxID    string            `json:"txId"`
}

// maxEventPayload bounds a manifest event payload accepted by
// DecodeManifestEvent (names and versions are short).
const maxEventPayload = 4096

// Validate checks the event's fields.
func (e ManifestEvent) Validate() error {
	if _, err := ManifestKey(e.Name, e.Version); err != nil {
		return err
	}
	if !e.Kind.Valid() {
		return Errorf(CodeInvalid, "manifest event kind %s: want record, purge or holders", quote(string(e.Kind)))
	}
	if e.TxID == "" || len(e.TxID) > 128 {
		return Errorf(CodeInvalid, "manifest event transaction id must be 1 to 128 characters")
	}
	return nil
}

// String is "kind name@version".
func (e ManifestEvent) String() string {
	return fmt.Sprintf("%s %s@%s", e.Kind, e.Name, e.Version)
}

// DecodeManifestEvent parses and validates a manifest event payload.
func DecodeManifestEvent(payload []byte) (ManifestEvent, error) {
	var e ManifestEvent
	if len(payload) > maxEventPayload {
		return e, Errorf(CodeInvalid, "manifest event payload of %d bytes exceeds %d", len(payload), maxEventPayload)
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		return e, Errorf(CodeInvalid, "manifest event payload: %v", err)
	}
	return e, e.Validate()
}
