package bufpool

import "testing"

func TestPool(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		wantCap int
	}{
		{"empty", 0, 256},
		{"small", 9, 256},
		{"frame", 16 << 10, 16 << 10},
		{"just over a class", 16<<10 + 1, 32 << 10},
		{"a chunk message", 1<<20 + 8, 2 << 20},
		{"largest pooled", 4 << 20, 4 << 20},
		{"too large to pool", 4<<20 + 1, 4<<20 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pool{}
			bp := p.Get(tt.n)
			if len(*bp) != tt.n || cap(*bp) != tt.wantCap {
				t.Fatalf("Get(%d): len %d cap %d, want len %d cap %d", tt.n, len(*bp), cap(*bp), tt.n, tt.wantCap)
			}
			p.Put(bp)
			again := p.Get(tt.n)
			if len(*again) != tt.n {
				t.Fatalf("second Get(%d): len %d", tt.n, len(*again))
			}
		})
	}
	// A buffer the pool did not make is not kept.
	p := &Pool{}
	odd := make([]byte, 3000)
	p.Put(&odd)
	if got := p.Get(3000); cap(*got) != 4096 {
		t.Fatalf("foreign buffer reused: cap %d", cap(*got))
	}
}
