// Package gatewayclient is a Go client of the DCT gateway's HTTP API, used
// by the operator CLI and the end-to-end tests. Errors answered by the
// gateway come back as *APIError carrying the HTTP status and the stable
// error code (the constants of pkg/api). It imports only pkg/api and
// chaincode/records of this project, never the gateway.
package gatewayclient
