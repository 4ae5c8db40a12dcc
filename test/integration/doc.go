// Package integration holds DCT's end-to-end tests. They run only with the
// "integration" build tag (make test, make test-integration) because they
// bring up a real Hyperledger Fabric network, built by the Makefile, on this
// machine.
package integration
