// Package netdelay puts real network distance between processes on one
// machine: a proxy that forwards TCP connections and UDP datagrams on one
// port to a target and holds every byte travelling towards the target for a
// configurable delay. Each round trip through the proxy thus takes the delay
// longer, whether the reply comes back through the proxy (TCP, UDP replies
// to the proxy's socket) or directly (UDP protocols that answer to an
// advertised address, like SWIM acks).
//
// It stands in for `tc netem` where the kernel offers no netem qdisc: tests
// advertise the proxy's address instead of the target's, so every peer that
// reaches the target does so across the delay.
package netdelay
