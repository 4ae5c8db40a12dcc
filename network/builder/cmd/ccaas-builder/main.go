// Command ccaas-builder is a Hyperledger Fabric external chaincode builder
// for chaincode-as-a-service. It is one static binary with no shell
// dependency.
//
// It picks the step from the name it was started under, or from its first
// argument:
//
//	detect  CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR
//	build   CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR
//	release BUILD_OUTPUT_DIR RELEASE_OUTPUT_DIR
//	run     BUILD_OUTPUT_DIR RUN_METADATA_DIR
//
// CCaaS packages need detect, build and release; standard Go packages
// (type golang, see package builder) also run: it replaces itself with the
// compiled chaincode, in client mode. Install it so that the builder
// directory has a bin/ folder holding detect, build, release and run. Each can be a copy, hard link or symlink of
// this binary:
//
//	/opt/ccaas-builder/bin/detect
//	/opt/ccaas-builder/bin/build
//	/opt/ccaas-builder/bin/release
//	/opt/ccaas-builder/bin/run
//
// Then point the peer at the parent of bin/ (core.yaml):
//
//	chaincode:
//	  externalBuilders:
//	    - name: ccaas-builder
//	      path: /opt/ccaas-builder
//
// Exit status: 0 on success. For detect, 0 means the package is a ccaas
// package. Otherwise the status is 1: detect found a package of another
// type, or an error occurred, in which case the message goes to stderr.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dct-network/dct/network/builder"
)

const usage = `usage:
  detect  CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR
  build   CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR
  release BUILD_OUTPUT_DIR RELEASE_OUTPUT_DIR
  run     BUILD_OUTPUT_DIR RUN_METADATA_DIR
(invoke as bin/<step> or as: ccaas-builder <step> ...)
`

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run carries out one builder step and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	step, rest, ok := selectStep(args)
	if !ok {
		if len(args) == 2 && isHelp(args[1]) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "ccaas-builder: %v: no step given\n%s", builder.ErrUsage, usage)
		return 1
	}

	applies, err := runStep(step, rest)
	if err != nil {
		fmt.Fprintf(stderr, "ccaas-builder %s: %v\n", step, err)
		if errors.Is(err, builder.ErrUsage) {
			fmt.Fprint(stderr, usage)
		}
		return 1
	}
	if !applies {
		fmt.Fprintf(stderr, "ccaas-builder detect: package type is not %q or %q; not applicable\n", builder.TypeCCaaS, builder.TypeGolang)
		return 1
	}
	return 0
}

// selectStep finds the step from the program name (bin/detect, ...) or, failing
// that, from the first argument (ccaas-builder detect ...).
func selectStep(args []string) (step string, rest []string, ok bool) {
	if len(args) == 0 {
		return "", nil, false
	}
	name := strings.TrimSuffix(filepath.Base(args[0]), ".exe")
	if isStep(name) {
		return name, args[1:], true
	}
	if len(args) > 1 && isStep(args[1]) {
		return args[1], args[2:], true
	}
	return "", nil, false
}

func isStep(s string) bool { return s == "detect" || s == "build" || s == "release" || s == "run" }

func isHelp(s string) bool { return s == "-h" || s == "-help" || s == "--help" || s == "help" }

// runStep runs one step. applies is false only when detect decides that the
// package is not for this builder.
func runStep(step string, args []string) (applies bool, err error) {
	want := map[string]int{"detect": 2, "build": 3, "release": 2, "run": 2}[step]
	if len(args) != want {
		return false, fmt.Errorf("%w: %s takes %d arguments, got %d", builder.ErrUsage, step, want, len(args))
	}
	switch step {
	case "detect":
		return builder.Detect(args[0], args[1])
	case "build":
		return true, builder.Build(args[0], args[1], args[2])
	case "release":
		return true, builder.Release(args[0], args[1])
	case "run":
		path, argv, env, err := builder.RunCommand(args[0], args[1], os.TempDir())
		if err != nil {
			return true, err
		}
		// The chaincode becomes the process the peer watches and stops.
		return true, syscall.Exec(path, argv, env)
	}
	return false, fmt.Errorf("%w: unknown step %q", builder.ErrUsage, step)
}
