// Package gateway wires DCT's gateway together: configuration (flags and
// DCT_… environment variables), the ledger client, the edge-agent
// connection pool, the content service and the HTTP server with graceful
// shutdown. Several gateways may run at once against the same ledger and
// agents; none holds state the others need.
package gateway
