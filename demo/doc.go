// Package demo holds the sample portal that `make demo` publishes: a quote
// table page whose stylesheet and script load with Subresource Integrity
// from DCT, and the JSON data feed the script reads. The assets are embedded
// so the demo needs no files besides the binaries.
package demo
