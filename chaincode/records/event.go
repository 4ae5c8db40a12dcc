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
	// EventInvalidate: a purge by key or a soft purge by name
	// (manifest:PurgeBy) reached the versions the event lists in Targets,
	// in Mode: hard (now purged) or soft (to revalidate).
	EventInvalidate ManifestEventKind = "invalidate"
)

// Valid reports whether k is a known kind.
func (k ManifestEventKind) Valid() bool {
	return k == EventRecord || k == EventPurge || k == EventHolders || k == EventInvalidate
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
	// Mode and Targets are set on EventInvalidate only (Name and Version
	// are empty then): the purge's mode and the "name@version" values it
	// reached.
	Mode    PurgeMode `json:"mode,omitempty"`
	Targets []string  `json:"targets,omitempty"`
}

// maxEventPayload bounds a manifest event payload accepted by
// DecodeManifestEvent: room for MaxPurgeTargets names with versions.
const maxEventPayload = 64 << 10

// Validate checks the event's fields.
func (e ManifestEvent) Validate() error {
	if !e.Kind.Valid() {
		return Errorf(CodeInvalid, "manifest event kind %s: want record, purge, holders or invalidate", quote(string(e.Kind)))
	}
	if e.Kind == EventInvalidate {
		if e.Name != "" || e.Version != "" {
			return Errorf(CodeInvalid, "an invalidate event names its versions in targets, not name and version")
		}
		if err := e.Mode.Validate(); err != nil {
			return err
		}
		if err := ValidateTargets(e.Targets); err != nil {
			return err
		}
	} else {
		if _, err := ManifestKey(e.Name, e.Version); err != nil {
			return err
		}
		if e.Mode != "" || len(e.Targets) > 0 {
			return Errorf(CodeInvalid, "only invalidate events carry a mode and targets")
		}
	}
	if e.TxID == "" || len(e.TxID) > 128 {
		return Errorf(CodeInvalid, "manifest event transaction id must be 1 to 128 characters")
	}
	return nil
}

// String is "kind name@version", or "invalidate (mode) n versions".
func (e ManifestEvent) String() string {
	if e.Kind == EventInvalidate {
		return fmt.Sprintf("invalidate (%s) %d versions", e.Mode, len(e.Targets))
	}
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
