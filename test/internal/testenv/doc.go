// Package testenv brings up the real system DCT's network test suites run
// on (test/integration, test/e2e, test/resilience and test/bench): a fresh
// run directory, a native Fabric network from test-network, optionally the
// DCT edge agents and gateways, and the teardown that keeps the run
// directory and its logs when the tests failed.
//
// A suite describes its system in a Suite (run directory name, base port and
// the variable that overrides it, network shape, services) and calls Main
// from its TestMain, or Start from a single test. The package is imported by
// tests only; it carries no build tag so that the suites' tags (integration,
// bench) need not agree with it. Paths to the repository's .cache assume the
// test package is a directory directly under test/.
package testenv
