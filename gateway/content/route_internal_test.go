package content

import (
	"testing"
	"time"
)

// The hedge delay is the p95 of the window, within [lo, hi], re-sorted
// every p95Every samples rather than on every read.
func TestHedgeDelay(t *testing.T) {
	const lo, hi, def = time.Millisecond, time.Second, 250 * time.Millisecond
	tests := []struct {
		name    string
		samples []time.Duration // recorded in order, after the previous case's
		want    time.Duration
	}{
		{"too few samples", ms(1, 19), def},
		{"p95 of 1..100 ms", ms(20, 100), 96 * time.Millisecond},
		{"fewer new samples than p95Every: kept", repeat(900*time.Millisecond, p95Every-1), 96 * time.Millisecond},
		{"one more: recomputed", repeat(900*time.Millisecond, 1), 900 * time.Millisecond},
		{"clamped to hi", repeat(5*time.Second, trackerWindow), hi},
		{"clamped to lo", repeat(time.Microsecond, trackerWindow), lo},
	}
	tr := newTracker()
	for _, tc := range tests {
		for _, d := range tc.samples {
			tr.done("n1", d, nil)
		}
		if got := tr.hedgeDelay(lo, hi, def); got != tc.want {
			t.Fatalf("%s: hedge delay %s, want %s", tc.name, got, tc.want)
		}
	}
}

func ms(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*time.Millisecond)
	}
	return out
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
