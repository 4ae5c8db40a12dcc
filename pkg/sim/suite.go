package sim

import (
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SuiteConfig is the full run (`make sim`): the main comparison and every
// sweep, written as CSV and PNG into Out with a Markdown summary.
type SuiteConfig struct {
	Out  string
	Base Config
	// Users is how users (and nodes) are spread over the city table:
	// by population (WeighByPopulation) or uniformly.
	Users Users
	// SweepRequests is the request count of every sweep (the main run has
	// Base.Requests).
	SweepRequests int
	// SweepEdges is the edge count of the sweeps.
	SweepEdges int
	Nodes      []int
	Inflations []float64
	// CacheObjects is the cached workload's cache per edge.
	CacheObjects int
	// Region is the regional outage's tz area; ChurnPerHour the churn
	// rates; ChurnHours how long each runs.
	Region       string
	ChurnPerHour []float64
	ChurnHours   float64
	Recovery     Recovery
	// WarmRPS and ColdRPS are one gateway's measured throughput, cache
	// hits and misses (README, Measurements); PublishesPerSec the publish
	// rate of the ledger-load figure.
	WarmRPS, ColdRPS float64
	PublishesPerSec  float64
}

// DefaultSuite is `make sim`'s run.
func DefaultSuite(out string) SuiteConfig {
	return SuiteConfig{
		Out: out, Base: DefaultConfig(), Users: UsersPopulation, SweepRequests: 200_000, SweepEdges: 100,
		Nodes:        []int{100, 300, 1000, 3000, 10_000},
		Inflations:   []float64{1.3, 1.7, 2.1, 2.5, 3.0},
		CacheObjects: 200,
		Region:       "Europe", ChurnPerHour: []float64{0.01, 0.05, 0.10, 0.20}, ChurnHours: 2,
		Recovery: DefaultRecovery(),
		WarmRPS:  12_629, ColdRPS: 400, PublishesPerSec: 0.1,
	}
}

// clone copies the world's mutable parts (nodes, holders), so failure
// experiments leave the original as it was.
func (w *World) clone() *World {
	c := *w
	c.nodes = slices.Clone(w.nodes)
	c.byID = maps.Clone(w.byID)
	c.holders = make([][][]int32, len(w.holders))
	for o, shards := range w.holders {
		c.holders[o] = make([][]int32, len(shards))
		for s, hs := range shards {
			c.holders[o][s] = slices.Clone(hs)
		}
	}
	return &c
}

// with returns the world under another latency model (shared placement).
func (w *World) with(l Latency) *World {
	c := *w
	c.cfg.Latency = l
	return &c
}

func statsRows(label string, r *Result) [][]string {
	var rows [][]string
	for _, s := range r.Stats {
		rows = append(rows, []string{label, string(s.System), strconv.Itoa(s.Edges), strconv.Itoa(r.Config.Nodes), f3(r.Config.Latency.Inflation),
			strconv.Itoa(s.Requests), strconv.Itoa(s.Failed), f3(float64(s.Hits) / float64(max(1, s.Requests))),
			f1(s.KM.Mean), f1(s.KM.P50), f1(s.KM.P95), f1(s.KM.P99),
			f3(s.RTT.Mean), f3(s.RTT.P50), f3(s.RTT.P95), f3(s.RTT.P99),
			f3(s.EdgeRTT.P50), f3(s.EdgeRTT.P95), f3(s.EdgeRTT.P99), f3(s.EdgeUnder10), f3(s.RTTUnder10), f3(s.Launched)})
	}
	return rows
}

var statsHeader = []string{"run", "system", "edges", "nodes", "inflation", "requests", "failed", "hit_ratio",
	"km_mean", "km_p50", "km_p95", "km_p99", "rtt_ms_mean", "rtt_ms_p50", "rtt_ms_p95", "rtt_ms_p99",
	"edge_ms_p50", "edge_ms_p95", "edge_ms_p99", "edge_under_10ms", "rtt_under_10ms", "shard_requests_per_miss"}

// RunSuite runs everything and returns the Markdown summary (also written
// to Out/summary.md).
func RunSuite(s SuiteConfig, cities []City, log *slog.Logger) (string, error) {
	var md strings.Builder
	spread := fmt.Sprintf("%d cities from the city table, users spread uniformly over them", len(cities))
	if s.Users == UsersPopulation {
		n := len(cities)
		var err error
		if cities, err = WeighByPopulation(cities); err != nil {
			return "", err
		}
		spread = fmt.Sprintf("%d cities from the city table and %d metro areas of their own (%d metro areas listed), users spread by population (%.0f million in all)",
			n, len(cities)-n, len(Metros), WorldMillions)
	}
	fmt.Fprintf(&md, "Configuration: %s; %s.\n\n", s.Base, spread)
	var rows [][]string

	// 1. Main: the full scale, dynamic content (no cache).
	t0 := time.Now()
	w, err := Build(s.Base, cities)
	if err != nil {
		return "", err
	}
	built := time.Since(t0)
	log.Info("world built", "nodes", s.Base.Nodes, "objects", s.Base.Objects, "took", built.Round(time.Millisecond))
	main := w.Run()
	log.Info("main run", "requests", s.Base.Requests, "took", main.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&md, "Main run: %d nodes, %d requests through %d systems (PoPs and DCT at K = %v): world built (every object placed) in %s, requests in %s (%.0f requests/s per system pair).\n\n",
		s.Base.Nodes, s.Base.Requests, 2*len(s.Base.Edges), s.Base.Edges, built.Round(100*time.Millisecond), main.Elapsed.Round(100*time.Millisecond),
		float64(s.Base.Requests)*float64(len(s.Base.Edges))/main.Elapsed.Seconds())
	rows = append(rows, statsRows("dynamic", main)...)

	// 2. The same world, cacheable content.
	cc := w.clone()
	cc.cfg.CacheObjects, cc.cfg.Requests = s.CacheObjects, s.SweepRequests
	cached := cc.Run()
	rows = append(rows, statsRows("cached", cached)...)
	fmt.Fprintf(&md, "### Data travel distance and RTT against K (%d nodes)\n\n", s.Base.Nodes)
	md.WriteString("| workload | K | PoP km p50 / p95 / p99 (mean) | DCT km p50 / p95 / p99 (mean) | mean distance cut | PoP RTT ms p50 / p95 / p99 | DCT RTT ms p50 / p95 / p99 | DCT edge-to-data < 10 ms | PoP edge-to-data < 10 ms |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, x := range []struct {
		name string
		r    *Result
	}{{"dynamic (no cache)", main}, {fmt.Sprintf("cached (%d objects/edge)", s.CacheObjects), cached}} {
		for _, k := range s.Base.Edges {
			p, _ := x.r.Find(SystemPoP, k)
			d, _ := x.r.Find(SystemDCT, k)
			fmt.Fprintf(&md, "| %s | %d | %.0f / %.0f / %.0f (%.0f) | %.0f / %.0f / %.0f (%.0f) | %.1f %% | %.1f / %.1f / %.1f | %.1f / %.1f / %.1f | %.1f %% | %.1f %% |\n",
				x.name, k, p.KM.P50, p.KM.P95, p.KM.P99, p.KM.Mean, d.KM.P50, d.KM.P95, d.KM.P99, d.KM.Mean,
				100*(1-d.KM.Mean/p.KM.Mean), p.RTT.P50, p.RTT.P95, p.RTT.P99, d.RTT.P50, d.RTT.P95, d.RTT.P99, 100*d.EdgeUnder10, 100*p.EdgeUnder10)
		}
	}
	md.WriteString("\n")
	for _, m := range []struct {
		file, title, unit string
		get               func(Stats) Dist
	}{{"distance_vs_k.png", "Data travel distance per request (dynamic content)", "km", func(s Stats) Dist { return s.KM }},
		{"rtt_vs_k.png", "User RTT to the data (dynamic content)", "ms", func(s Stats) Dist { return s.RTT }}} {
		var series []Series
		for _, sys := range []System{SystemPoP, SystemDCT} {
			for qi, q := range []string{"p50", "p95", "p99"} {
				se := Series{Name: fmt.Sprintf("%s %s", sys, q), Dashed: sys == SystemPoP}
				for _, k := range s.Base.Edges {
					st, _ := main.Find(sys, k)
					d := m.get(st)
					se.X = append(se.X, float64(k))
					se.Y = append(se.Y, []float64{d.P50, d.P95, d.P99}[qi])
				}
				series = append(series, se)
			}
		}
		if err := (Plot{Title: m.title, XLabel: "K (PoPs, or DCT gateways at the same cities)", YLabel: m.unit, Series: series}).Save(filepath.Join(s.Out, m.file)); err != nil {
			return "", err
		}
	}

	// 3. Node count sweep.
	k := s.SweepEdges
	var nodeStats []*Result
	for _, n := range s.Nodes {
		c := s.Base
		c.Nodes, c.Requests, c.Edges = n, s.SweepRequests, []int{k}
		wn := w.clone()
		if n != s.Base.Nodes {
			if wn, err = Build(c, cities); err != nil {
				return "", err
			}
		}
		wn.cfg.Requests, wn.cfg.Edges = c.Requests, c.Edges
		r := wn.Run()
		nodeStats = append(nodeStats, r)
		rows = append(rows, statsRows("nodes", r)...)
		log.Info("node sweep", "nodes", n, "took", r.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(&md, "### Against node count (K = %d, dynamic content, %d requests each)\n\n| nodes | DCT km p50 / p95 / p99 | DCT RTT ms p50 / p95 / p99 | DCT edge-to-data ms p50 / p99 | edge-to-data < 10 ms | PoP km p50 (same K) |\n| --- | --- | --- | --- | --- | --- |\n", k, s.SweepRequests)
	var nx []float64
	var dkm, drtt [3][]float64
	var under, pkm []float64
	for i, r := range nodeStats {
		d, _ := r.Find(SystemDCT, min(k, len(w.order)))
		p, _ := r.Find(SystemPoP, min(k, len(w.order)))
		fmt.Fprintf(&md, "| %d | %.0f / %.0f / %.0f | %.1f / %.1f / %.1f | %.1f / %.1f | %.1f %% | %.0f |\n", s.Nodes[i], d.KM.P50, d.KM.P95, d.KM.P99,
			d.RTT.P50, d.RTT.P95, d.RTT.P99, d.EdgeRTT.P50, d.EdgeRTT.P99, 100*d.EdgeUnder10, p.KM.P50)
		nx = append(nx, float64(s.Nodes[i]))
		for q, v := range []float64{d.KM.P50, d.KM.P95, d.KM.P99} {
			dkm[q] = append(dkm[q], v)
		}
		for q, v := range []float64{d.RTT.P50, d.RTT.P95, d.RTT.P99} {
			drtt[q] = append(drtt[q], v)
		}
		under = append(under, 100*d.EdgeUnder10)
		pkm = append(pkm, p.KM.P50)
	}
	md.WriteString("\n")
	qs := []string{"p50", "p95", "p99"}
	var ks, rs []Series
	for q := range 3 {
		ks = append(ks, Series{Name: "dct km " + qs[q], X: nx, Y: dkm[q]})
		rs = append(rs, Series{Name: "dct RTT ms " + qs[q], X: nx, Y: drtt[q]})
	}
	ks = append(ks, Series{Name: fmt.Sprintf("pop-%d km p50", k), X: nx, Y: pkm, Dashed: true})
	if err := (Plot{Title: fmt.Sprintf("DCT data travel distance against node count (K = %d)", k), XLabel: "nodes", YLabel: "km", LogX: true, Series: ks}).Save(filepath.Join(s.Out, "distance_vs_nodes.png")); err != nil {
		return "", err
	}
	if err := (Plot{Title: fmt.Sprintf("DCT user RTT against node count (K = %d)", k), XLabel: "nodes", YLabel: "ms", LogX: true, Series: rs}).Save(filepath.Join(s.Out, "rtt_vs_nodes.png")); err != nil {
		return "", err
	}
	if err := (Plot{Title: "Share of DCT misses with edge-to-holder time under 10 ms", XLabel: "nodes", YLabel: "%", LogX: true,
		Series: []Series{{Name: fmt.Sprintf("K = %d gateways", k), X: nx, Y: under}}}).Save(filepath.Join(s.Out, "under10ms_vs_nodes.png")); err != nil {
		return "", err
	}

	// 4. Route inflation sweep (same placement).
	md.WriteString("### Against route inflation (dynamic content, K = " + strconv.Itoa(k) + ")\n\n| inflation | PoP RTT ms p50 / p99 | DCT RTT ms p50 / p99 | DCT edge-to-data < 10 ms |\n| --- | --- | --- | --- |\n")
	var ix, pr, dr []float64
	for _, inf := range s.Inflations {
		l := s.Base.Latency
		l.Inflation = inf
		wi := w.with(l)
		wi.cfg.Requests, wi.cfg.Edges = s.SweepRequests, []int{k}
		r := wi.Run()
		rows = append(rows, statsRows("inflation", r)...)
		p, _ := r.Find(SystemPoP, k)
		d, _ := r.Find(SystemDCT, k)
		fmt.Fprintf(&md, "| %.1f | %.1f / %.1f | %.1f / %.1f | %.1f %% |\n", inf, p.RTT.P50, p.RTT.P99, d.RTT.P50, d.RTT.P99, 100*d.EdgeUnder10)
		ix, pr, dr = append(ix, inf), append(pr, p.RTT.P50), append(dr, d.RTT.P50)
	}
	md.WriteString("\n")
	if err := (Plot{Title: "Median user RTT against route inflation", XLabel: "route inflation", YLabel: "ms",
		Series: []Series{{Name: fmt.Sprintf("pop-%d", k), X: ix, Y: pr, Dashed: true}, {Name: fmt.Sprintf("dct-%d", k), X: ix, Y: dr}}}).Save(filepath.Join(s.Out, "rtt_vs_inflation.png")); err != nil {
		return "", err
	}

	// 5. Placement variants.
	md.WriteString("### Placement variants (" + strconv.Itoa(s.Base.Nodes) + " nodes, K = " + strconv.Itoa(k) + ", dynamic)\n\n| zone / placement | DCT km p50 / p95 (mean) | DCT RTT ms p50 / p99 | edge-to-data < 10 ms | mean distance cut vs PoPs |\n| --- | --- | --- | --- | --- |\n")
	for _, v := range []struct {
		z ZoneLevel
		p PlacementMode
		r int
	}{{ZoneCountry, PlaceGateway, s.Base.R}, {ZoneArea, PlaceGateway, s.Base.R}, {ZoneCity, PlaceGateway, s.Base.R}, {ZoneCountry, PlaceGateway, 3}, {ZoneCountry, PlaceAuction, s.Base.R}} {
		c := s.Base
		c.Zone, c.Placement, c.R, c.Requests, c.Edges = v.z, v.p, v.r, s.SweepRequests, []int{k}
		wv := w.clone()
		if v.z != s.Base.Zone || v.p != s.Base.Placement || v.r != s.Base.R {
			if wv, err = Build(c, cities); err != nil {
				return "", err
			}
		}
		wv.cfg.Requests, wv.cfg.Edges = c.Requests, c.Edges
		r := wv.Run()
		rows = append(rows, statsRows(fmt.Sprintf("placement-%s-%s-r%d", v.z, v.p, v.r), r)...)
		p, _ := r.Find(SystemPoP, k)
		d, _ := r.Find(SystemDCT, k)
		fmt.Fprintf(&md, "| %s / %s, r = %d | %.0f / %.0f (%.0f) | %.1f / %.1f | %.1f %% | %.1f %% |\n", v.z, v.p, v.r, d.KM.P50, d.KM.P95, d.KM.Mean, d.RTT.P50, d.RTT.P99, 100*d.EdgeUnder10, 100*(1-d.KM.Mean/p.KM.Mean))
		log.Info("placement variant", "zone", v.z, "placement", v.p, "r", v.r)
	}
	md.WriteString("\n")
	if err := WriteCSV(filepath.Join(s.Out, "stats.csv"), statsHeader, rows); err != nil {
		return "", err
	}

	// 6. Regional outage.
	rec := s.Recovery
	rec.Gateways = k
	o, err := w.clone().Outage(s.Region, k, rec, 10*time.Second, 60*time.Second, 2000)
	if err != nil {
		return "", err
	}
	var orows [][]string
	var ox, o50, o99, ofail []float64
	for _, b := range o.Timeline {
		orows = append(orows, []string{strconv.Itoa(int(b.At / time.Second)), strconv.Itoa(b.Reads), strconv.Itoa(b.Failed), f3(b.P50), f3(b.P99)})
		ox = append(ox, b.At.Seconds())
		o50, o99 = append(o50, b.P50), append(o99, b.P99)
		ofail = append(ofail, 100*float64(b.Failed)/float64(max(1, b.Reads)))
	}
	if err := WriteCSV(filepath.Join(s.Out, "outage_timeline.csv"), []string{"second", "reads", "failed", "edge_ms_p50", "edge_ms_p99"}, orows); err != nil {
		return "", err
	}
	if err := (Plot{Title: fmt.Sprintf("Reads around the loss of every node in %s at t = 0 (K = %d gateways)", s.Region, k), XLabel: "seconds", YLabel: "ms / %",
		Series: []Series{{Name: "edge-to-data p50 (ms)", X: ox, Y: o50}, {Name: "edge-to-data p99 (ms)", X: ox, Y: o99}, {Name: "reads failed (%)", X: ox, Y: ofail, Dashed: true}}}).Save(filepath.Join(s.Out, "outage.png")); err != nil {
		return "", err
	}
	fmt.Fprintf(&md, "### Regional outage: every node in %s lost at once\n\n%d of %d nodes lost, %d shard copies; %d objects lost more than m = %d shards (unrecoverable with r = %d), %d degraded but repairable. The mesh declared the lost nodes failed after %s (median) to %s (last); reads were back within 10 %% (+1 ms) of their p99 before the outage after %s; redundancy was restored (%d shards rebuilt by %d gateways, one shard at a time each) after %s (half of them by %s).\n\n",
		s.Region, o.NodesLost, o.Nodes, o.ShardsLost, o.ObjectsLost, s.Base.M, s.Base.R, o.Degraded, o.DetectP50.Round(100*time.Millisecond), o.DetectMax.Round(100*time.Millisecond),
		o.RouteAround, o.Repairs, rec.Gateways, o.Restore.Round(time.Second), o.RestoreP50.Round(time.Second))

	// 7. Churn.
	md.WriteString("### Churn: nodes leaving (and as many joining) per hour\n\n| leaving per hour | nodes left | shards repaired | restore p50 / p99 / max | most copies missing at once | objects lost | repair tx/s |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	var crows [][]string
	var cx, c50, c99 []float64
	var repairPerNode float64
	for _, rate := range s.ChurnPerHour {
		ch, err := w.clone().Churn(rate, s.ChurnHours, rec)
		if err != nil {
			return "", err
		}
		crows = append(crows, []string{f3(rate), strconv.Itoa(ch.Left), strconv.Itoa(ch.Repairs), f1(ch.RestoreP50.Seconds()), f1(ch.RestoreP99.Seconds()), f1(ch.RestoreMax.Seconds()),
			strconv.Itoa(ch.MaxDegraded), strconv.Itoa(ch.ObjectsLost), f3(ch.RepairTxPerSec)})
		fmt.Fprintf(&md, "| %.0f %% | %d | %d | %s / %s / %s | %d | %d | %.3f |\n", 100*rate, ch.Left, ch.Repairs, ch.RestoreP50.Round(time.Second), ch.RestoreP99.Round(time.Second), ch.RestoreMax.Round(time.Second), ch.MaxDegraded, ch.ObjectsLost, ch.RepairTxPerSec)
		cx, c50, c99 = append(cx, 100*rate), append(c50, ch.RestoreP50.Seconds()), append(c99, ch.RestoreP99.Seconds())
		if rate == 0.05 {
			repairPerNode = ch.RepairTxPerSec / float64(s.Base.Nodes)
		}
		log.Info("churn", "perHour", rate)
	}
	md.WriteString("\n")
	if err := WriteCSV(filepath.Join(s.Out, "churn.csv"), []string{"leaving_per_hour", "nodes_left", "repairs", "restore_s_p50", "restore_s_p99", "restore_s_max", "max_missing_copies", "objects_lost", "repair_tx_per_s"}, crows); err != nil {
		return "", err
	}
	if err := (Plot{Title: fmt.Sprintf("Time to restore redundancy under churn (%d nodes, %d repairing gateways)", s.Base.Nodes, rec.Gateways), XLabel: "nodes leaving per hour (%)", YLabel: "seconds",
		Series: []Series{{Name: "p50", X: cx, Y: c50}, {Name: "p99", X: cx, Y: c99}}}).Save(filepath.Join(s.Out, "churn.png")); err != nil {
		return "", err
	}

	// 8. Ledger load.
	var lrows [][]string
	var lseries []Series
	nodes := []int{100, 1000, 10_000, 100_000}
	for _, ep := range []float64{60, 300, 3600} {
		var xs, att, tot []float64
		for _, n := range nodes {
			l := Ledger(n, k, ep, s.PublishesPerSec, repairPerNode*float64(n))
			lrows = append(lrows, []string{strconv.Itoa(n), strconv.Itoa(k), f1(ep), f3(s.PublishesPerSec), f3(l.Receipts), f3(l.Attestations), f3(l.Auctions), f3(l.Repairs), f3(l.Total())})
			xs, att, tot = append(xs, float64(n)), append(att, l.Attestations), append(tot, l.Total())
		}
		lseries = append(lseries, Series{Name: fmt.Sprintf("attestations, %.0f s epochs", ep), X: xs, Y: att, Dashed: true}, Series{Name: fmt.Sprintf("total, %.0f s epochs", ep), X: xs, Y: tot})
	}
	if err := WriteCSV(filepath.Join(s.Out, "ledger.csv"), []string{"nodes", "gateways", "epoch_s", "publishes_per_s", "receipts_tx_s", "attestations_tx_s", "auctions_tx_s", "repairs_tx_s", "total_tx_s"}, lrows); err != nil {
		return "", err
	}
	if err := (Plot{Title: fmt.Sprintf("Ledger load (%d gateways, %.2f publishes/s, 5 %%/h churn)", k, s.PublishesPerSec), XLabel: "nodes", YLabel: "transactions per second", LogX: true, LogY: true, Series: lseries}).Save(filepath.Join(s.Out, "ledger.png")); err != nil {
		return "", err
	}
	md.WriteString(fmt.Sprintf("### Ledger load (%d gateways, %.2f publishes/s, repairs at 5 %%/h churn)\n\n| nodes | epoch | receipts | attestations | auctions | repairs | total tx/s |\n| --- | --- | --- | --- | --- | --- | --- |\n", k, s.PublishesPerSec))
	for _, r := range lrows {
		fmt.Fprintf(&md, "| %s | %s s | %s | %s | %s | %s | %s |\n", r[0], r[2], r[4], r[5], r[6], r[7], r[8])
	}
	md.WriteString("\n")

	// 9. Gateways per request rate.
	cp, _ := cached.Find(SystemDCT, min(k, len(w.order)))
	hit := float64(cp.Hits) / float64(max(1, cp.Requests))
	var grows [][]string
	var gx, gd, gc []float64
	for _, rate := range []float64{1e3, 1e4, 1e5, 1e6, 1e7} {
		dyn := GatewaysNeeded(rate, 0, s.WarmRPS, s.ColdRPS)
		cac := GatewaysNeeded(rate, hit, s.WarmRPS, s.ColdRPS)
		grows = append(grows, []string{f1(rate), strconv.Itoa(dyn), f3(hit), strconv.Itoa(cac)})
		gx, gd, gc = append(gx, rate), append(gd, float64(dyn)), append(gc, float64(cac))
	}
	if err := WriteCSV(filepath.Join(s.Out, "gateways.csv"), []string{"requests_per_s", "gateways_dynamic", "hit_ratio_cached", "gateways_cached"}, grows); err != nil {
		return "", err
	}
	if err := (Plot{Title: fmt.Sprintf("Gateways needed (one serves %.0f hits/s, %.0f misses/s)", s.WarmRPS, s.ColdRPS), XLabel: "requests per second", YLabel: "gateways", LogX: true, LogY: true,
		Series: []Series{{Name: "dynamic (every request a miss)", X: gx, Y: gd}, {Name: fmt.Sprintf("cached (hit ratio %.2f)", hit), X: gx, Y: gc}}}).Save(filepath.Join(s.Out, "gateways.png")); err != nil {
		return "", err
	}
	md.WriteString("### Gateways needed per request rate\n\n| requests/s | dynamic | cached (hit ratio " + f3(hit) + ") |\n| --- | --- | --- |\n")
	for _, r := range grows {
		fmt.Fprintf(&md, "| %s | %s | %s |\n", r[0], r[1], r[3])
	}
	md.WriteString("\n")
	return md.String(), nil
}
