// Package api holds the wire types of the gateway's HTTP API: the JSON
// answers of publish, list, metadata, purge and health, the error body and
// its stable error codes. Servers (gateway/httpapi) and clients
// (pkg/gatewayclient, demo, the dct CLI) share them; it imports only the
// standard library and chaincode/records, so a client linking it links no
// server.
package api
