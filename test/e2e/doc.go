// Package e2e runs DCT end to end on real processes: a native Fabric 2.5
// network with the DCT chaincode, edge agents in two organisations, and an
// HTTP gateway, all started by test-network. The tests use only the
// gateway's HTTP API, the agents' disks and signals, like an operator would.
// They need the build tag "integration" and the binaries `make build` puts in
// .cache/bin.
package e2e
