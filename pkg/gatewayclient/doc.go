// Package gatewayclient is a Go client of the DCT gateway's HTTP API, used
// by the operator CLI and the end-to-end tests. Reads (list, show, get) go
// to the gateway's public listener; publish, purge and whoami go to its
// admin listener (WithAdmin), over HTTPS with a caller-owned *http.Client
// whose transport presents a member's enrollment certificate as its TLS
// client certificate (TLSConfig loads one from a certificate and key or an
// MSP directory, and the gateway's TLS CA). Errors answered by the gateway
// come back as *APIError carrying the HTTP status and the stable error code
// (the constants of pkg/api). It imports only pkg/api and chaincode/records
// of this project, never the gateway.
package gatewayclient
