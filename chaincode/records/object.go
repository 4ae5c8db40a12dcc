package records

import "slices"

// Object is the head record of an object name, stored under ObjectKey(name).
type Object struct {
	// Name is the object name.
	Name string `json:"name"`
	// Owner is the MSP ID of the organisation that published the first
	// version; only it may publish further versions of the name.
	Owner string `json:"owner"`
	// Versions lists every recorded version, purged ones included, in
	// publish order.
	Versions []string `json:"versions"`
	// Latest is the most recently published version that is not purged, ""
	// when every version is purged.
	Latest string `json:"latest"`
	// UpdatedAt is the timestamp of the last transaction that recorded or
	// purged a version.
	UpdatedAt string `json:"updatedAt"`
}

// String returns the object name.
func (o *Object) String() string {
	if o == nil {
		return "<nil>"
	}
	return o.Name
}

// HasVersion reports whether version was recorded for the object.
func (o *Object) HasVersion(version string) bool {
	return o != nil && slices.Contains(o.Versions, version)
}

// HistoryEntry is one committed write of a ledger key, as returned by the
// history contract.
type HistoryEntry struct {
	// TxID is the id of the writing transaction.
	TxID string `json:"txId"`
	// Timestamp is the writing transaction's timestamp (TimestampLayout).
	Timestamp string `json:"timestamp"`
	// IsDelete reports a deletion of the key.
	IsDelete bool `json:"isDelete"`
	// Value is the JSON of the record as written, "" for a deletion.
	Value string `json:"value"`
}

// String returns the transaction id.
func (h *HistoryEntry) String() string {
	if h == nil {
		return "<nil>"
	}
	return h.TxID
}
