// Package builder implements a Hyperledger Fabric 2.5 external chaincode
// builder for chaincode-as-a-service (CCaaS) and for standard Go packages,
// plus a packager that produces CCaaS lifecycle chaincode packages.
//
// # Builder contract
//
// The peer runs the programs in <builder>/bin as follows:
//
//	bin/detect  CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR
//	bin/build   CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR
//	bin/release BUILD_OUTPUT_DIR RELEASE_OUTPUT_DIR
//	bin/run     BUILD_OUTPUT_DIR RUN_METADATA_DIR
//
// CHAINCODE_SOURCE_DIR holds the extracted code.tar.gz of the package and
// CHAINCODE_METADATA_DIR holds its metadata.json. [Detect], [Build] and
// [Release] implement these three steps:
//
//   - Detect accepts a package whose metadata.json has type "ccaas" or
//     "golang" (compared case-insensitively).
//   - Build checks connection.json in the source directory, copies it
//     unchanged to the build output, and copies META-INF (state database
//     index definitions) when it is present.
//   - Release places connection.json at chaincode/server/connection.json in
//     the release directory, which is where the peer looks for it. It also
//     copies META-INF/statedb to statedb so the peer can install the indexes.
//
// For a CCaaS package the builder never runs a chaincode process: the peer
// calls the chaincode server at the address in connection.json.
//
// # Standard Go packages
//
// A "golang" package is what `peer lifecycle chaincode package --lang
// golang` writes: the Go module under src/ in code.tar.gz, its main
// package's import path in metadata.json. Build compiles it with `go build
// -trimpath` from the vendored dependencies only (GOFLAGS=-mod=vendor,
// GOPROXY=off, CGO_ENABLED=0; a package without src/vendor is refused),
// with the toolchain whose GOROOT is in EnvGoRoot (or GOROOT), which the
// operator provides on the peer and lists in the builder's
// propagateEnvironment; EnvGoCache may name a shared build cache. Release
// copies only the state database indexes, so the peer calls bin/run, which
// [RunCommand] prepares: the compiled chaincode, started with the settings
// of the peer's chaincode.json in the Fabric Go shim's environment, in
// client mode (it dials the peer). The install request waits for the
// build: the peer's chaincode.executetimeout must exceed it.
//
// The builder does not expand templates or environment variables.
// connection.json has to be complete when it is packaged. The peer passes
// builders an almost empty environment in any case.
//
// # Packaging
//
// [Package] writes a standard Fabric lifecycle package: a gzipped tar that
// holds metadata.json ({"type":"ccaas","label":...}) and code.tar.gz (a
// gzipped tar that holds connection.json). The output is deterministic: the
// same label and [Connection] always give the same bytes with a given Go
// toolchain, so [PackageID] is stable too. It uses the same rule as the peer:
// label ":" hex(sha256(package)).
//
// The command in cmd/ccaas-builder wraps this package as one static binary
// with no shell dependency. See that command's documentation for how to
// install it.
package builder
