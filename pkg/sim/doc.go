// Package sim is DCT's scale simulator: a planet of cities (tzdata's
// zone1970.tab), N edge nodes around them, K edge sites, and a Zipf
// workload from users spread over the cities and the largest metro areas
// by population (WeighByPopulation), driven through DCT's own
// code, not re-implementations of it:
//
//   - every object is placed by gateway/placement.Place (the gateways'
//     publish) or by a storage auction cleared by the chaincode's
//     records.ClearAuction;
//   - every read ranks the holders, orders the shards, picks replacements
//     and hedges with gateway/routing (the code content.Service reads
//     with), the hedge delay from a window of the gateway's own recent
//     fetch latencies as the gateway keeps it;
//   - every lost shard gets its new holder from placement.Replace (the
//     gateway's repair), failures are detected with pkg/mesh's timing.
//
// Latency is modelled, never measured: RTT = 2 × distance ÷ fibre speed
// × route inflation + last mile + server time, computed per pair when
// needed (no N×N matrix). The baseline is K centralized PoPs at the same
// cities as DCT's K gateways, anycast to the nearest, misses to a single
// origin. A run is deterministic for its seed.
//
// Build makes a World; World.Run drives the requests; World.Outage and
// World.Churn the failure experiments; RunSuite the whole of `make sim`,
// written as CSV and PNG. README.md (Scale simulation) states every
// assumption and its source.
package sim
