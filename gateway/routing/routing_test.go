package routing

import (
	"reflect"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestCompare(t *testing.T) {
	band := 10 * ms
	for _, tc := range []struct {
		name string
		a, b Holder
		want int
	}{
		{"alive before unknown", Holder{Health: HealthAlive, Cost: 90 * ms}, Holder{Health: HealthUnknown, Cost: ms}, -1},
		{"unknown before suspect", Holder{Health: HealthUnknown}, Holder{Health: HealthSuspect}, -1},
		{"suspect before failed", Holder{Health: HealthSuspect, Cost: time.Second}, Holder{Health: HealthFailed}, -1},
		{"nearer band first", Holder{Health: HealthAlive, Cost: 9 * ms, Score: 1}, Holder{Health: HealthAlive, Cost: 11 * ms, Score: 9}, -1},
		{"same band: higher score", Holder{Health: HealthAlive, Cost: 8 * ms, Score: 1}, Holder{Health: HealthAlive, Cost: 2 * ms, Score: 9}, 1},
		{"same band and score: cost", Holder{Health: HealthAlive, Cost: 2 * ms}, Holder{Health: HealthAlive, Cost: 3 * ms}, -1},
		{"equal", Holder{Health: HealthAlive, Cost: 2 * ms}, Holder{Health: HealthAlive, Cost: 2 * ms}, 0},
	} {
		if got := Compare(tc.a, tc.b, band); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func picks(p *Plan, calls [][2]int) []Pick {
	var out []Pick
	for _, c := range calls {
		if pk, ok := p.Next(c[0], c[1] == 1, nil); ok {
			out = append(out, pk)
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	h := func(node string, health Health, cost time.Duration) Holder {
		return Holder{Node: node, Health: health, Cost: cost}
	}
	// Three shards, k = 2: shard 1's best holder is nearest, shard 2's
	// only holder failed.
	p := NewPlan([][]Holder{
		{h("a2", HealthAlive, 50*ms), h("a1", HealthAlive, 30*ms)},
		{h("b1", HealthAlive, 5*ms), h("b2", HealthAlive, 60*ms)},
		{h("c1", HealthFailed, ms)},
	}, 10*ms)
	if !reflect.DeepEqual(p.Order, []int{1, 0, 2}) || p.Best(0).Node != "a1" {
		t.Fatalf("order %v, best of 0 %v", p.Order, p.Best(0))
	}
	got := picks(p, [][2]int{{-1, 0}, {-1, 0}})
	want := []Pick{{Shard: 1, Node: "b1"}, {Shard: 0, Node: "a1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("first picks %v, want %v", got, want)
	}
	// A hedge of shard 1 goes to its next holder; another to the failed
	// shard only once nothing else is left.
	if pk, _ := p.Next(1, true, nil); pk != (Pick{Shard: 1, Node: "b2", Hedge: true}) {
		t.Fatalf("hedge %v", pk)
	}
	p.Arrived(0)
	if pk, _ := p.Next(1, true, func(string) bool { return true }); pk.Node != "" {
		t.Fatalf("hedge to a node that failed recently: %v", pk)
	}
	if pk, _ := p.Next(1, false, nil); pk != (Pick{Shard: 2, Node: "c1"}) {
		t.Fatalf("last resort %v", pk)
	}
	if _, ok := p.Next(-1, false, nil); ok {
		t.Fatal("a pick with every holder tried")
	}
}

func TestHedgeDelay(t *testing.T) {
	s := make([]time.Duration, 100)
	for i := range s {
		s[i] = time.Duration(i+1) * ms
	}
	if got := HedgeDelay(s, ms, time.Second); got != 96*ms {
		t.Fatalf("p95 %v", got)
	}
	if got := HedgeDelay(s, 200*ms, time.Second); got != 200*ms {
		t.Fatalf("clamped %v", got)
	}
	if HealthFailed.String() != "failed" || Health(9).String() != "invalid" {
		t.Fatal("health names")
	}
}
