package records

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBytesWithin checks the budget cut against its definition: the bytes
// it keeps cost at most the budget, one byte more would cost more (unless
// every byte is kept), over edge cases and random values.
func TestBytesWithin(t *testing.T) {
	check := func(bytes, price, carry, budget int64) {
		t.Helper()
		n, ok := BytesWithin(bytes, price, carry, budget)
		if !ok || n < 0 || n > bytes {
			t.Fatalf("BytesWithin(%d, %d, %d, %d) = %d, %v", bytes, price, carry, budget, n, ok)
		}
		amt, _, ok := DeliveryAmount(n, price, carry)
		if !ok || amt > budget {
			t.Fatalf("BytesWithin(%d, %d, %d, %d) = %d costs %d", bytes, price, carry, budget, n, amt)
		}
		if n < bytes {
			if more, _, ok := DeliveryAmount(n+1, price, carry); ok && more <= budget {
				t.Fatalf("BytesWithin(%d, %d, %d, %d) = %d, but %d bytes cost %d", bytes, price, carry, budget, n, n+1, more)
			}
		}
	}
	for _, c := range [][4]int64{
		{0, 5, 0, 0}, {1, 5, 0, 0}, {PriceUnitBytes, 1, 0, 0}, {PriceUnitBytes, 1, 0, 1}, {PriceUnitBytes, 1, PriceUnitBytes - 1, 0},
		{10, 0, 7, 0}, {math.MaxInt64 / MaxPricePerMiB, MaxPricePerMiB, PriceUnitBytes - 1, MaxBudgetPerEpoch},
		{1 << 40, MaxPricePerMiB, 0, 0}, {1 << 40, 1, 0, MaxBudgetPerEpoch}, {3 << 20, 997, 12345, 2000},
	} {
		check(c[0], c[1], c[2], c[3])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		price := rng.Int64N(2000)
		if rng.IntN(10) == 0 {
			price = rng.Int64N(MaxPricePerMiB + 1)
		}
		bytes := rng.Int64N(1 << 34)
		check(bytes, price, rng.Int64N(PriceUnitBytes), rng.Int64N(5000))
	}
	for _, bad := range [][4]int64{{-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, PriceUnitBytes, 0}, {1, 1, 0, -1}} {
		if _, ok := BytesWithin(bad[0], bad[1], bad[2], bad[3]); ok {
			t.Fatalf("BytesWithin%v accepted", bad)
		}
	}
}

func TestNodeEpochCapacity(t *testing.T) {
	for _, c := range []struct{ bps, want int64 }{
		{0, 0}, {-8, 0}, {7, 0}, {8, 60}, {1_000_000_000, 7_500_000_000}, {math.MaxInt64, math.MaxInt64},
	} {
		if got := NodeEpochCapacity(c.bps, DefaultEpochSeconds); got != c.want {
			t.Errorf("NodeEpochCapacity(%d, DefaultEpochSeconds) = %d, want %d", c.bps, got, c.want)
		}
	}
}
