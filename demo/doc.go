// Package demo holds the sample portal that `make demo` publishes: a quote
// table page that includes the gateways' frontend loader pinned with
// Subresource Integrity, loads its stylesheet and script through it with
// their integrity values (from the fastest healthy gateway, switching on
// failure), and polls the JSON data feed through it for its ticker. The
// assets are embedded so the demo needs no files besides the binaries.
package demo
