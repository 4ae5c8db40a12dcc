// Package cli is the operators' command line for a DCT gateway: publish a
// file or a whole directory (with a progress bar), list objects, show a
// manifest, fetch content and purge versions. The gateway address comes
// from --gateway or DCT_GATEWAY.
package cli
