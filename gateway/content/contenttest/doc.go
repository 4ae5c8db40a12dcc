// Package contenttest provides in-memory stand-ins for what a
// content.Service talks to, for tests that need no Fabric network and no
// edge agents: a Ledger that behaves like the DCT chaincode on a peer
// (the chaincode's validation and refusals, commits visible at once with a
// transaction id and timestamp, records copied in and out), Agents that
// store shards like edge agents and fail with the errors the gateway's
// agent client reports, and a Topology set by the test.
//
// They are fakes, not expectation mocks: tests drive them through the
// service and inspect their state, and inject faults (an agent down, a
// failing upload, a slow answer, a ledger error) where needed. Only tests
// import this package.
package contenttest
