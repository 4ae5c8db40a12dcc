// Package resilience runs DCT's fault tests on real processes: a native
// Fabric network, ten edge agents in two organisations gossiping in the
// mesh (three of them behind delaying proxies that put real distance on
// their packets), and two gateways. Each test drives load over HTTP while it
// kills, stops or slows agents or a gateway, and prints its figures. Build
// tag "integration".
package resilience
