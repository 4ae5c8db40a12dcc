package sim

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/routing"
)

func TestParseISO6709(t *testing.T) {
	for _, tc := range []struct {
		in       string
		lat, lon float64
		bad      bool
	}{
		{in: "+4852+00220", lat: 48 + 52.0/60, lon: 2 + 20.0/60},
		{in: "-3352+15113", lat: -(33 + 52.0/60), lon: 151 + 13.0/60},
		{in: "-720041+0023206", lat: -(72 + 0.0/60 + 41.0/3600), lon: 2 + 32.0/60 + 6.0/3600},
		{in: "+4852", bad: true},
		{in: "4852+00220", bad: true},
		{in: "+9952+00220", bad: true},
		{in: "", bad: true},
	} {
		lat, lon, err := ParseISO6709(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: parsed as %v %v, want an error", tc.in, lat, lon)
			}
			continue
		}
		if err != nil || math.Abs(lat-tc.lat) > 1e-9 || math.Abs(lon-tc.lon) > 1e-9 {
			t.Errorf("%q: got %v %v %v, want %v %v", tc.in, lat, lon, err, tc.lat, tc.lon)
		}
	}
}

func TestParseZoneTab(t *testing.T) {
	in := "# comment\nFR,MC\t+4852+00220\tEurope/Paris\nAQ\t-6617+11031\tAntarctica/Casey\tCasey\nUS\t+404251-0740023\tAmerica/New_York\tEastern (most areas)\n"
	cs, err := ParseZoneTab(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].String() != "Europe/Paris" || cs[0].Country != "FR" || cs[1].Name != "New York" || cs[1].Weight != 1 {
		t.Fatalf("got %+v", cs)
	}
	for _, bad := range []string{"", "FR\t+4852+00220\n", "FR\tx\tEurope/Paris\n", "FR\t+4852+00220\tParis\n"} {
		if _, err := ParseZoneTab(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDistanceAndRTT(t *testing.T) {
	// Paris–London is about 344 km.
	if d := DistanceKM(48.8567, 2.3508, 51.5072, -0.1275); math.Abs(d-344) > 5 {
		t.Fatalf("Paris–London %v km", d)
	}
	for _, tc := range []struct {
		km, inflation float64
		want          time.Duration
	}{
		{1000, 2.1, 21 * time.Millisecond}, // 2 × 1000 / 200,000 × 2.1
		{1000, 1, 10 * time.Millisecond},
		{0, 3, 0},
		{20_000, 1.3, 260 * time.Millisecond},
	} {
		l := DefaultLatency()
		l.Inflation = tc.inflation
		if got := l.Propagation(tc.km); got != tc.want {
			t.Errorf("%v km × %v: %v, want %v", tc.km, tc.inflation, got, tc.want)
		}
	}
	l := DefaultLatency()
	if l.access(0) != 18*time.Millisecond || l.access(0.5) != 26*time.Millisecond || l.access(0.99) != 44*time.Millisecond {
		t.Fatal("last-mile mix")
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	l.Access[0].Share = 0.9
	if l.Validate() == nil {
		t.Fatal("shares summing to 1.5 validated")
	}
}

// testCities is a small planet: a European cluster and far cities.
func testCities() []City {
	return []City{
		{Name: "Paris", Area: "Europe", Country: "FR", Lat: 48.87, Lon: 2.33, Weight: 1},
		{Name: "London", Area: "Europe", Country: "GB", Lat: 51.51, Lon: -0.13, Weight: 1},
		{Name: "Berlin", Area: "Europe", Country: "DE", Lat: 52.5, Lon: 13.37, Weight: 1},
		{Name: "Madrid", Area: "Europe", Country: "ES", Lat: 40.4, Lon: -3.68, Weight: 1},
		{Name: "New York", Area: "America", Country: "US", Lat: 40.71, Lon: -74, Weight: 1},
		{Name: "Chicago", Area: "America", Country: "US", Lat: 41.85, Lon: -87.65, Weight: 1},
		{Name: "Sao Paulo", Area: "America", Country: "BR", Lat: -23.53, Lon: -46.62, Weight: 1},
		{Name: "Tokyo", Area: "Asia", Country: "JP", Lat: 35.65, Lon: 139.74, Weight: 1},
		{Name: "Singapore", Area: "Asia", Country: "SG", Lat: 1.28, Lon: 103.85, Weight: 1},
		{Name: "Sydney", Area: "Australia", Country: "AU", Lat: -33.87, Lon: 151.22, Weight: 1},
	}
}

func smallConfig() Config {
	c := DefaultConfig()
	c.Nodes, c.Objects, c.Requests, c.Edges, c.CacheObjects = 200, 100, 3000, []int{1, 3, 10}, 0
	return c
}

func TestDeterministicForASeed(t *testing.T) {
	run := func(c Config) []Stats {
		w, err := Build(c, testCities())
		if err != nil {
			t.Fatal(err)
		}
		r := w.Run()
		return r.Stats
	}
	c := smallConfig()
	a, b := run(c), run(c)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs with seed %d differ:\n%+v\n%+v", c.Seed, a, b)
	}
	c.Seed = 2
	if reflect.DeepEqual(a, run(c)) {
		t.Fatal("another seed gave the same figures")
	}
}

func TestPoPBaselineRoutesToNearest(t *testing.T) {
	c := smallConfig()
	c.JitterKM = 0
	w, err := Build(c, testCities())
	if err != nil {
		t.Fatal(err)
	}
	// The nearest of the first K sites, by brute force.
	for _, k := range c.Edges {
		for ci := range w.cities {
			best := 0
			for i := range k {
				if w.cityKM[ci][w.order[i]] < w.cityKM[ci][w.order[best]] {
					best = i
				}
			}
			if got := int(w.nearest[k][ci]); w.cityKM[ci][w.order[got]] != w.cityKM[ci][w.order[best]] {
				t.Fatalf("K=%d city %s: site %d, nearest is %d", k, w.cities[ci], got, best)
			}
		}
	}
	r := w.Run()
	// With a site in every city and no jitter, a PoP user travels nothing
	// to the edge, so without a cache the data travels exactly from the
	// origin to the user's city, as with a single PoP at the origin.
	p, _ := r.Find(SystemPoP, 10)
	one, _ := r.Find(SystemPoP, 1)
	if math.Abs(p.KM.Mean-one.KM.Mean) > 1 {
		t.Fatalf("uncached: 10 PoPs %v km, 1 PoP %v km", p.KM, one.KM)
	}
	// With a cache that holds everything, hits travel nothing at 10 PoPs.
	wc := w.clone()
	wc.cfg.CacheObjects = c.Objects
	rc := wc.Run()
	pc, _ := rc.Find(SystemPoP, 10)
	if pc.Hits < c.Requests/2 || pc.KM.P50 != 0 || pc.KM.Mean >= one.KM.Mean/2 {
		t.Fatalf("cached: %d hits, %v km (1 PoP uncached: %v)", pc.Hits, pc.KM, one.KM)
	}
	// With a single site, PoP and origin coincide: the data travels from
	// the user to the origin only.
	if one.EdgeRTT.P99 > 5 {
		t.Fatalf("1 PoP: edge-to-origin p99 %.1f ms, want about the server time", one.EdgeRTT.P99)
	}
	if p.Requests != c.Requests {
		t.Fatalf("%d PoP requests, want %d", p.Requests, c.Requests)
	}
	d, _ := r.Find(SystemDCT, 10)
	if d.Requests != c.Requests || d.Failed != 0 || d.Launched < float64(c.K) {
		t.Fatalf("DCT: %+v", d)
	}
}

// TestReadAsksTheNearestHolders: with exact estimates and no slow server,
// a read gets its k shards from the k nearest holders; a silent holder
// the mesh still reports alive is routed around by a hedge, not waited
// for.
func TestReadAsksTheNearestHolders(t *testing.T) {
	c := smallConfig()
	c.K, c.M, c.EstimateError = 2, 2, 0
	c.Latency.SlowShare = 0
	rtt := map[string]time.Duration{"a": 5 * time.Millisecond, "b": 20 * time.Millisecond, "c": 40 * time.Millisecond, "d": 80 * time.Millisecond}
	objs := [][][]string{{{"d"}, {"c"}, {"b"}, {"a"}}}
	p, err := Predict(c, rtt, nil, objs, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if p.Shares["a"] != 0.5 || p.Shares["b"] != 0.5 {
		t.Fatalf("shares %v, want a and b half each", p.Shares)
	}
	if p.P50 < 20*time.Millisecond || p.P50 > 23*time.Millisecond {
		t.Fatalf("p50 %s, want b's 20 ms plus server time", p.P50)
	}
	// b is silent but alive to the mesh: the hedge asks c.
	w := &World{cfg: c, byID: map[string]int32{}}
	for i, id := range []string{"a", "b", "c", "d"} {
		w.byID[id] = int32(i)
		w.nodes = append(w.nodes, node{id: id})
	}
	w.holders = [][][]int32{{{3}, {2}, {1}, {0}}}
	env := &readEnv{w: w, draw: func() float64 { return 0 },
		view:  func(int32) routing.Health { return routing.HealthAlive },
		state: func(n int32) nodeState { return map[bool]nodeState{true: nodeSilent, false: nodeUp}[n == 1] },
		rtt:   func(_ *gateway, n int32) time.Duration { return rtt[w.nodes[n].id] }}
	res := env.read(&gateway{}, 0, make([][]routing.Holder, 4))
	if !res.ok || res.latency > c.HedgeDefault+45*time.Millisecond || !reflect.DeepEqual(res.from, []int32{0, 2}) {
		t.Fatalf("read with b silent: %+v", res)
	}
}

func TestOutageAndChurn(t *testing.T) {
	c := smallConfig()
	c.Nodes, c.Objects = 300, 200
	w, err := Build(c, testCities())
	if err != nil {
		t.Fatal(err)
	}
	rec := DefaultRecovery()
	rec.Gateways = 3
	o, err := w.clone().Outage("Asia", 10, rec, 2*time.Second, 20*time.Second, 200)
	if err != nil {
		t.Fatal(err)
	}
	if o.NodesLost == 0 || o.ShardsLost == 0 || o.Repairs == 0 || o.Restore < o.DetectP50+rec.DeadAfter {
		t.Fatalf("outage: %+v", o)
	}
	for _, b := range o.Timeline {
		if b.At < 0 && b.Failed > 0 {
			t.Fatalf("reads failed before the outage: %+v", b)
		}
	}
	ch, err := w.clone().Churn(0.1, 1, rec)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Left == 0 || ch.Repairs == 0 || ch.RestoreP50 < rec.DeadAfter {
		t.Fatalf("churn: %+v", ch)
	}
	if _, err := w.clone().Outage("Atlantis", 10, rec, time.Second, time.Second, 10); err == nil {
		t.Fatal("an outage of no region ran")
	}
}

func TestLedgerAndGateways(t *testing.T) {
	l := Ledger(10_000, 100, 60, 0.1, 0)
	if math.Abs(l.Receipts-200.0/60) > 1e-9 || math.Abs(l.Attestations-10_101.0/60) > 1e-9 || math.Abs(l.Auctions-0.1*10_003) > 1e-9 {
		t.Fatalf("%+v", l)
	}
	if g := GatewaysNeeded(10_000, 0.5, 10_000, 1000); g != 6 {
		t.Fatalf("gateways %d, want 6", g)
	}
}

func TestConfigRefusals(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"no nodes":     func(c *Config) { c.Nodes = 0 },
		"k 1":          func(c *Config) { c.K = 1 },
		"zone":         func(c *Config) { c.Zone = "planet" },
		"placement":    func(c *Config) { c.Placement = "random" },
		"inflation":    func(c *Config) { c.Latency.Inflation = 0.5 },
		"no edges":     func(c *Config) { c.Edges = nil },
		"hedge bounds": func(c *Config) { c.HedgeMax = c.HedgeMin / 2 },
	} {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: validated", name)
		}
	}
}
