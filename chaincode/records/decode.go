package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// DecodeNodeInput decodes caller JSON into a NodeInput, refusing unknown
// fields and trailing data, and validates it. Errors are *Error values with
// CodeInvalid.
func DecodeNodeInput(data []byte) (*NodeInput, error) {
	var in NodeInput
	if err := decodeStrict(data, &in, "node"); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &in, nil
}

// DecodeManifestInput decodes caller JSON into a Manifest, refusing unknown
// fields (in particular any "key") and trailing data, and validates it. The
// fields set by the chaincode (publisher, createdAt, txId, purged, updatedAt,
// updatedBy, updateTxId, recordedBy) may be present only with their zero value, so that a
// client can send a marshalled Manifest. Errors are *Error values with
// CodeInvalid.
func DecodeManifestInput(data []byte) (*Manifest, error) {
	var m Manifest
	if err := decodeStrict(data, &m, "manifest"); err != nil {
		return nil, err
	}
	switch {
	case m.Publisher != "":
		return nil, invalidf("publisher is set by the chaincode and must not be supplied")
	case m.CreatedAt != "":
		return nil, invalidf("createdAt is set by the chaincode and must not be supplied")
	case m.TxID != "":
		return nil, invalidf("txId is set by the chaincode and must not be supplied")
	case m.Purged != nil:
		return nil, invalidf("purged is set by the chaincode and must not be supplied")
	case m.UpdatedAt != "":
		return nil, invalidf("updatedAt is set by the chaincode and must not be supplied")
	case m.UpdatedBy != "":
		return nil, invalidf("updatedBy is set by the chaincode and must not be supplied")
	case m.UpdateTxID != "":
		return nil, invalidf("updateTxId is set by the chaincode and must not be supplied")
	case m.RecordedBy != "":
		return nil, invalidf("recordedBy is set by the chaincode and must not be supplied")
	}
	if m.PublishedBy != "" {
		if err := validateSHA256Hex("publishedBy", m.PublishedBy); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// DecodeShardNodes decodes a JSON array of node ids (the holders of one
// shard), refusing anything but an array of strings and trailing data, and
// checks it with ValidateShardNodes. field names the list in messages.
// Errors are *Error values with CodeInvalid.
func DecodeShardNodes(data []byte, field string) ([]string, error) {
	var ids []string
	if err := decodeStrict(data, &ids, field); err != nil {
		return nil, err
	}
	if err := ValidateShardNodes(field, ids); err != nil {
		return nil, err
	}
	return ids, nil
}

func decodeStrict(data []byte, v any, what string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return invalidf("%s JSON is empty", what)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("%s JSON is malformed: %v", what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidf("%s JSON has trailing data after the object", what)
	}
	return nil
}

// DecodeGrantInput decodes caller JSON into a GrantInput, refusing unknown
// fields and trailing data. Validate it with GrantInput.Validate.
func DecodeGrantInput(data []byte) (*GrantInput, error) {
	var in GrantInput
	if err := decodeStrict(data, &in, "grant"); err != nil {
		return nil, err
	}
	return &in, nil
}
