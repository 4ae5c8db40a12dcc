package records

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestSurrogateKeys(t *testing.T) {
	many := make([]string, MaxSurrogateKeys+1)
	for i := range many {
		many[i] = "k" + strconv.Itoa(i)
	}
	tests := []struct {
		name string
		keys []string
		msg  string // "" = valid
	}{
		{"none", nil, ""},
		{"some", []string{"release-42", "site", "a.b:c_d"}, ""},
		{"longest", []string{strings.Repeat("k", 64)}, ""},
		{"the most", many[:MaxSurrogateKeys], ""},
		{"too long", []string{strings.Repeat("k", 65)}, "must match"},
		{"empty", []string{""}, "must not be empty"},
		{"space", []string{"a b"}, "must match"},
		{"slash", []string{"a/b"}, "must match"},
		{"leading dash", []string{"-a"}, "must match"},
		{"non-ASCII", []string{"café"}, "must match"},
		{"twice", []string{"a", "a"}, "twice"},
		{"too many", many, "at most 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSurrogateKeys(tt.keys)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want ErrInvalid naming %q", err, tt.msg)
			}
		})
	}
	keys, err := ParseSurrogateKeys("  release-42   site ")
	if err != nil || strings.Join(keys, ",") != "release-42,site" {
		t.Fatalf("ParseSurrogateKeys = %v, %v", keys, err)
	}
	if keys, err := ParseSurrogateKeys(""); err != nil || keys != nil {
		t.Fatalf("empty header: %v, %v", keys, err)
	}
}

func TestPurgeRequest(t *testing.T) {
	tests := []struct {
		name string
		json string
		msg  string
	}{
		{"hard by key", `{"key":"k","mode":"hard","reason":"r"}`, ""},
		{"soft by key", `{"key":"k","mode":"soft","reason":"r"}`, ""},
		{"soft by name", `{"name":"a/b.js","mode":"soft","reason":"r"}`, ""},
		{"soft by version", `{"name":"a","version":"2","mode":"soft","reason":"r"}`, ""},
		{"hard by name", `{"name":"a","mode":"hard","reason":"r"}`, "manifest:Purge"},
		{"key with a version", `{"key":"k","version":"1","mode":"hard","reason":"r"}`, "takes no version"},
		{"both", `{"key":"k","name":"a","mode":"soft","reason":"r"}`, "not both"},
		{"neither", `{"mode":"soft","reason":"r"}`, "surrogate key or an object name"},
		{"bad mode", `{"key":"k","mode":"medium","reason":"r"}`, "want hard or soft"},
		{"no reason", `{"key":"k","mode":"hard"}`, "reason must not be empty"},
		{"bad key", `{"key":"k k","mode":"hard","reason":"r"}`, "must match"},
		{"bad name", `{"name":"../a","mode":"soft","reason":"r"}`, "name"},
		{"unknown field", `{"key":"k","mode":"hard","reason":"r","x":1}`, "malformed"},
		{"trailing data", `{"key":"k","mode":"hard","reason":"r"} {}`, "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodePurgeRequest([]byte(tt.json))
			if tt.msg == "" {
				if err != nil || r.String() == "" {
					t.Fatalf("%v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want ErrInvalid naming %q", err, tt.msg)
			}
		})
	}
}
