// Package mesh is DCT's controller-free latency map: edge agents and
// gateways form one gossip membership (hashicorp/serf: SWIM failure
// detection over memberlist, with Vivaldi network coordinates), so every
// member knows who is alive, suspect, failed or left, and can estimate its
// round-trip time to every other member without measuring it.
//
// # Membership
//
// Each member gossips on one host:port, UDP and TCP (Config.Bind), under a
// unique name: an agent's ledger node id, a gateway's name. Its role and
// ledger node id travel as serf tags, next to extra tags such as an agent's
// gRPC endpoint and zone. Start binds and returns at once; the seeds in
// Config.Join are tried in the background, and again whenever the member
// finds itself without a live peer, so members may start in any order.
//
// A member's Status combines serf and memberlist: failed and left come from
// serf; suspect means serf still counts the member alive but this member's
// last direct probe of it went unanswered (memberlist keeps its own
// suspicion private, so the mesh watches memberlist's probes instead);
// alive otherwise. A member that stops answering is suspect
// within about a second and declared failed a second or two later with
// DefaultTiming (see Timing); one that Closes is seen as left at once. Failed and left members stay
// listed until Timing.ReapAfter; a failed member that comes back (also at a
// new address, after a restart) becomes alive again.
//
// A member advertising a host name follows it: every
// Timing.ResolveInterval, and before rejoining when alone, it looks the
// name up, and when the name no longer resolves to the advertised IP it
// restarts serf at the new address under the same name and rejoins the
// members it knew and the seeds (memberlist cannot change a running
// member's address). Serf's name-conflict resolution is off, since it
// would shut down a member briefly known under two addresses.
//
// # Latency
//
// Every probe of a peer feeds its round-trip time into serf's Vivaldi
// coordinate client, and the ack carries the peer's coordinate back.
// EstimateRTT is the distance between this member's coordinate and the
// peer's last known one: free to compute, good to tens of percent once the
// coordinates have converged (a few dozen probes), and available only
// after this member has probed that peer at least once. MeasureRTT sends a
// real probe instead, for error reports and for checking the estimates.
// Snapshot gathers everything as a JSON-ready Map (Handler serves it), whose
// coordinates also give estimates between two other members
// (Coordinate.DistanceTo).
//
// # Limits
//
// Gossip is neither encrypted nor authenticated: run it on a trusted
// network. Timing defaults suit a LAN; across a WAN raise ProbeTimeout
// above the largest RTT (it also bounds MeasureRTT) and ProbeInterval with
// it.
package mesh
