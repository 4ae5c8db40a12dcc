package ledger

import (
	"context"
	"testing"
	"time"
)

// TestStepContext: a call without a deadline of its own gets the step's
// (fabric-gateway's *WithContext calls apply no default timeout, and a
// transaction lost in ordering would wait for its commit for ever); a
// caller's deadline is kept.
func TestStepContext(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		d      time.Duration
		within time.Duration // the deadline is at most this far; 0: none
	}{
		{"no deadline: the step's", context.Background(), time.Minute, time.Minute},
		{"the caller's deadline wins", parent, time.Minute, time.Hour},
		{"no step timeout", context.Background(), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := stepContext(tt.ctx, tt.d)
			defer cancel()
			dl, ok := ctx.Deadline()
			if tt.within == 0 {
				if ok {
					t.Fatalf("deadline %v, want none", dl)
				}
				return
			}
			if !ok {
				t.Fatal("no deadline")
			}
			if left := time.Until(dl); left > tt.within || left < tt.within-time.Second {
				t.Fatalf("deadline in %v, want about %v", left, tt.within)
			}
		})
	}
}
