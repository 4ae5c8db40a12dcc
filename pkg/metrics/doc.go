// Package metrics holds DCT's Prometheus instruments and its operations
// listener, modelled on Hyperledger Fabric's operations service: one
// address (--ops-listen) serving /metrics (Prometheus text format),
// /healthz (liveness) and /readyz (readiness), both with JSON bodies.
//
// Every metric is named dct_<component>_<what>: dct_gateway_* for
// gateways, dct_agent_* for edge agents (dct_chaincode_* lives in the
// chaincode module's server package). Instruments are registered on a
// registry the caller passes (NewRegistry for a process, a fresh
// prometheus.NewRegistry in tests); nothing uses the global default
// registry. Label values come from bounded sets (routes, gRPC methods,
// status codes, registered node ids, mesh states), and the hot serving
// path uses children resolved once (Gateway.ServeWarm).
package metrics
