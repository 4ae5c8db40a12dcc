package records

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeManifestInput: manifests arrive as JSON from any member. A
// manifest the decoder takes is valid and survives a round trip
// unchanged; anything else is refused as invalid, never a panic.
func FuzzDecodeManifestInput(f *testing.F) {
	for _, m := range []*Manifest{validManifest(4, 2), validManifest(1, 0)} {
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte(`{"name":"a","key":"secret"}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifestInput(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalid {
				t.Fatalf("error %v is not an invalid-argument *Error", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded manifest fails validation: %v", err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeManifestInput(b)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, m, again)
		}
	})
}
