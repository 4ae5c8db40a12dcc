package mesh

import (
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/serf/coordinate"
)

// fakeCoords stands in for serf's coordinate cache: a new pointer per
// answered probe.
type fakeCoords struct {
	mu sync.Mutex
	m  map[string]*coordinate.Coordinate
}

func (f *fakeCoords) GetCachedCoordinate(name string) (*coordinate.Coordinate, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.m[name]
	return c, ok
}

func (f *fakeCoords) answered(name string) {
	f.mu.Lock()
	f.m[name] = coordinate.NewCoordinate(coordinate.DefaultConfig())
	f.mu.Unlock()
}

func TestProbeWatch(t *testing.T) {
	src := &fakeCoords{m: map[string]*coordinate.Coordinate{}}
	p := newProbeWatch()
	p.probeFailed("early") // before serf exists: no coordinate yet
	p.setSource(src)
	src.answered("a")
	src.answered("b")

	suspects := func() []string { return slices.Sorted(maps.Keys(p.suspects())) }
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"none failed but the early one", func() {}, []string{"early"}},
		{"early answers", func() { src.answered("early") }, nil},
		{"a's probe fails", func() { p.probeFailed("a") }, []string{"a"}},
		{"b's probe fails, and a's again", func() { p.probeFailed("b"); p.probeFailed("a") }, []string{"a", "b"}},
		{"b answers", func() { src.answered("b") }, []string{"a"}},
		{"a rejoined", func() { p.forget("a") }, nil},
		{"never-probed c fails", func() { p.probeFailed("c") }, []string{"c"}},
	}
	for _, s := range steps {
		s.do()
		if got := suspects(); !slices.Equal(got, s.want) {
			t.Fatalf("%s: suspects %v, want %v", s.name, got, s.want)
		}
	}
	if p.probeFailed("x") {
		t.Fatal("probeFailed turned TCP fallback probes off")
	}
}
