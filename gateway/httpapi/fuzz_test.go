package httpapi

import (
	"strings"
	"testing"
)

// FuzzParseRange: Range headers come from anyone. A range that is taken
// must lie inside the object and be non-empty; parsing never panics.
func FuzzParseRange(f *testing.F) {
	for _, s := range []struct {
		h    string
		size int64
	}{
		{"bytes=0-", 100}, {"bytes=10-19", 100}, {"bytes=-5", 100}, {"bytes=-0", 100}, {"bytes=100-", 100},
		{"bytes=0-0", 0}, {"bytes=5-1", 100}, {"bytes=0-9223372036854775807", 1 << 40}, {"bytes=-9223372036854775808", 10},
		{"items=0-1", 10}, {"bytes=0-1,3-4", 10}, {" bytes = 1 - 2 ", 10}, {"bytes=+1-2", 10},
	} {
		f.Add(s.h, s.size)
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return // sizes come from validated manifests
		}
		start, length, ok, satisfiable := parseRange(h, size)
		if !ok {
			if satisfiable || start != 0 || length != 0 {
				t.Fatalf("parseRange(%q, %d) ignored but returned %d+%d satisfiable=%v", h, size, start, length, satisfiable)
			}
			return
		}
		if !strings.Contains(h, "bytes=") {
			t.Fatalf("parseRange(%q, %d) took a header without the bytes unit", h, size)
		}
		if satisfiable && (start < 0 || length < 1 || start >= size || length > size-start) {
			t.Fatalf("parseRange(%q, %d) = %d+%d, outside the object", h, size, start, length)
		}
	})
}
