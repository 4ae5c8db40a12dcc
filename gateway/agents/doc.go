// Package agents is the gateway's client side of the edge agents' gRPC
// ShardService: one long-lived TLS connection per agent endpoint, shared by
// every request, with this gateway's client certificate (agents accept only
// consortium members).
package agents
