package api_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// nonStandardDeps lists the packages outside the standard library that pkg
// links, per go list.
func nonStandardDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestDependencies: the API types link nothing but the standard library and
// the records, and the dct command line links no server code (it links
// the fabric-gateway client, which signs the node registry's admin
// transactions: a client, not a server).
func TestDependencies(t *testing.T) {
	deps := nonStandardDeps(t, "github.com/dct-network/dct/pkg/api")
	allowed := []string{"github.com/dct-network/dct/pkg/api", "github.com/dct-network/dct/chaincode/records"}
	for _, d := range deps {
		if !slices.Contains(allowed, d) {
			t.Errorf("pkg/api depends on %s", d)
		}
	}
	for _, d := range nonStandardDeps(t, "github.com/dct-network/dct/cli/cmd/dct") {
		for _, banned := range []string{"github.com/gin-gonic/", "github.com/dct-network/dct/gateway"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("cmd/dct links %s", d)
			}
		}
	}
}
