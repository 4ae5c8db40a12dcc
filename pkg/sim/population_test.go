package sim

import (
	"errors"
	"math"
	"os"
	"reflect"
	"slices"
	"testing"
)

func TestWeighByPopulation(t *testing.T) {
	in := testCities()
	w, err := WeighByPopulation(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range in {
		if c.Weight != 1 {
			t.Fatalf("input changed: %+v", c)
		}
	}
	byName := map[string]City{}
	sum := 0.0
	for _, c := range w {
		if c.Weight < 0 || math.IsNaN(c.Weight) {
			t.Fatalf("%s weighs %v", c, c.Weight)
		}
		sum += c.Weight
		byName[c.String()] = c
	}
	if math.Abs(sum-WorldMillions) > 1e-6 {
		t.Fatalf("weights add up to %v million, want %v", sum, WorldMillions)
	}
	for _, tc := range []struct {
		name string
		want float64
	}{
		// A metro on a table city of its country: the city weighs the
		// metro and the rest of the country (France: one metro).
		{"Europe/Paris", CountryMillions["FR"]},
		// Two US metros on table cities (New York, Chicago) share the
		// rest of the country in proportion to their populations.
		{"America/New York", CountryMillions["US"] * 18.8 / usMetros()},
		// A listed country without a metro: its population on its city.
		{"Europe/Berlin", CountryMillions["DE"]},
		// A metro away from every table city of its country: a place of
		// its own (India has one zone, in Kolkata).
		{"Asia/Delhi", CountryMillions["IN"] * 28.5 / inMetros()},
	} {
		c, ok := byName[tc.name]
		if !ok {
			t.Errorf("%s: missing", tc.name)
			continue
		}
		if math.Abs(c.Weight-tc.want) > 1e-6 {
			t.Errorf("%s weighs %.3f million, want %.3f", tc.name, c.Weight, tc.want)
		}
	}
	if d := byName["Asia/Delhi"]; d.Country != "IN" || d.Area != "Asia" {
		t.Errorf("Delhi: %+v", d)
	}
	if n := len(w) - len(in); n <= 0 || n >= len(Metros) {
		t.Errorf("%d metros of their own, want some but not all of %d", n, len(Metros))
	}
	// Deterministic: the same table gives the same weights.
	again, _ := WeighByPopulation(in)
	if !slices.Equal(w, again) {
		t.Fatal("two runs weigh differently")
	}
	if _, err := WeighByPopulation(nil); !errors.Is(err, ErrGeo) {
		t.Fatalf("no cities: %v", err)
	}
	// Users drawn by these weights: a world built on them is
	// deterministic for its seed and draws users by population.
	c := smallConfig()
	w1, err := Build(c, w)
	if err != nil {
		t.Fatal(err)
	}
	w2, _ := Build(c, w)
	if a, b := w1.Run(), w2.Run(); !reflect.DeepEqual(a.Stats, b.Stats) {
		t.Fatalf("same seed, different figures:\n%+v\n%+v", a.Stats, b.Stats)
	}
	delhi := slices.IndexFunc(w, func(c City) bool { return c.String() == "Asia/Delhi" })
	sydney := slices.IndexFunc(w, func(c City) bool { return c.String() == "Australia/Sydney" })
	var nDelhi, nSydney int
	for _, n := range w1.nodes {
		switch int(n.city) {
		case delhi:
			nDelhi++
		case sydney:
			nSydney++
		}
	}
	if nDelhi <= 2*nSydney {
		t.Fatalf("%d nodes at Delhi, %d at Sydney: not drawn by population", nDelhi, nSydney)
	}
}

func usMetros() float64 { return metrosOf("US") }
func inMetros() float64 { return metrosOf("IN") }

func metrosOf(cc string) float64 {
	s := 0.0
	for _, m := range Metros {
		if m.Country == cc {
			s += m.Millions
		}
	}
	return s
}

// TestPopulationOverTzdata weighs the real city table (Debian's tzdata)
// when it is installed: the weights add up to the world, Asia holds most
// users.
func TestPopulationOverTzdata(t *testing.T) {
	if _, err := os.Stat(DefaultZoneTab); err != nil {
		t.Skip("no tzdata:", err)
	}
	cs, err := LoadCities(DefaultZoneTab)
	if err != nil {
		t.Fatal(err)
	}
	w, err := WeighByPopulation(cs)
	if err != nil {
		t.Fatal(err)
	}
	area := map[string]float64{}
	sum := 0.0
	for _, c := range w {
		area[c.Area] += c.Weight
		sum += c.Weight
	}
	if math.Abs(sum-WorldMillions) > 1e-6 {
		t.Fatalf("weights add up to %v million", sum)
	}
	if share := area["Asia"] / sum; share < 0.5 || share > 0.7 {
		t.Fatalf("Asia holds %.0f %% of users, want about 60 %%", 100*share)
	}
}

func TestUsersRefusal(t *testing.T) {
	s := DefaultSuite(t.TempDir())
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Users = "everywhere"
	if err := s.Validate(); !errors.Is(err, ErrConfig) {
		t.Fatalf("users %q: %v", s.Users, err)
	}
}
