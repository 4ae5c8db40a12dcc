// Package bench measures DCT's serve path on a real system: a native Fabric
// network, six edge agents and in-process gateways, loaded over loopback
// with wrk. It needs the build tag "bench" (`make bench`); the figures it
// prints are the ones the README reports.
package bench
