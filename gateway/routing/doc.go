// Package routing is the gateway's read-path routing, pure: how it ranks the
// holders of a shard (health, then the RTT band, then SLA score, then RTT),
// in which order it asks the shards of a read, which holder it asks next
// when a request fails or is hedged, and the hedge delay (the p95 of recent
// fetch latencies within bounds).
//
// gateway/content drives it with real requests; the scale simulator
// (pkg/sim) drives the same code with modelled latencies, so both route
// alike by construction.
package routing
