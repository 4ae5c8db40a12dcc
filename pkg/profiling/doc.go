// Package profiling serves Go's runtime profiles (net/http/pprof) on a
// loopback address, for measuring a gateway or an agent under load
// (--pprof-listen; off by default). It refuses any address that is not a
// loopback one: profiles reveal memory contents and cost CPU.
package profiling
