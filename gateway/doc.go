// Package gateway wires DCT's HTTP gateway (dct-gateway) together:
// configuration (flags and DCT_… environment variables), the ledger client,
// the edge-agent connection pool, the content service and the HTTP server
// with graceful shutdown. Several gateways may run at once against the same
// ledger and agents; none holds state the others need. (The Fabric Gateway
// is something else: the peer service that package ledger talks to.)
package gateway
