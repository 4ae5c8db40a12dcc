package httpapi

import "testing"

func TestParseRange(t *testing.T) {
	tests := []struct {
		h               string
		size            int64
		start, length   int64
		ok, satisfiable bool
	}{
		{"bytes=0-99", 1000, 0, 100, true, true},
		{"bytes=500-", 1000, 500, 500, true, true},
		{"bytes=-100", 1000, 900, 100, true, true},
		{"bytes=-5000", 1000, 0, 1000, true, true},
		{"bytes=990-5000", 1000, 990, 10, true, true},
		{"bytes=1000-", 1000, 0, 0, true, false},
		{"bytes=2000-3000", 1000, 0, 0, true, false},
		{"bytes=-0", 1000, 0, 0, true, false},
		{"bytes=0-0", 0, 0, 0, true, false},
		{"bytes=5-1", 1000, 0, 0, false, false},
		{"bytes=0-1,5-6", 1000, 0, 0, false, false},
		{"items=0-1", 1000, 0, 0, false, false},
		{"bytes=abc", 1000, 0, 0, false, false},
		{"bytes= 10 - 19 ", 1000, 10, 10, true, true},
	}
	for _, tt := range tests {
		s, l, ok, sat := parseRange(tt.h, tt.size)
		if s != tt.start || l != tt.length || ok != tt.ok || sat != tt.satisfiable {
			t.Errorf("parseRange(%q, %d) = %d,%d,%v,%v want %d,%d,%v,%v", tt.h, tt.size, s, l, ok, sat, tt.start, tt.length, tt.ok, tt.satisfiable)
		}
	}
}

func TestETagAndIfRange(t *testing.T) {
	const e = `"abc"`
	for _, tt := range []struct {
		h    string
		want bool
	}{{`"abc"`, true}, {`W/"abc"`, true}, {`"x", "abc"`, true}, {`*`, true}, {`"x"`, false}} {
		if got := etagMatches(tt.h, e); got != tt.want {
			t.Errorf("etagMatches(%q) = %v", tt.h, got)
		}
	}
	lm := "Wed, 25 Nov 2026 07:00:00 GMT"
	for _, tt := range []struct {
		h    string
		want bool
	}{{"", true}, {`"abc"`, true}, {`"old"`, false}, {lm, true}, {"Tue, 24 Nov 2026 07:00:00 GMT", false}} {
		if got := ifRangeHolds(tt.h, e, lm); got != tt.want {
			t.Errorf("ifRangeHolds(%q) = %v", tt.h, got)
		}
	}
}
