package testnetwork

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dct-network/dct/network/builder"
)

func TestPackageCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dct.tar.gz")
	var stdout bytes.Buffer
	cmd := NewCommand(&stdout)
	cmd.SetArgs([]string{"package", "--label", "dct_2.0", "--address", "cc.bank-a.example:9999", "--output", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := builder.PackageID("dct_2.0", b); !strings.Contains(stdout.String(), "package id "+want) {
		t.Fatalf("output %q does not name package id %s", stdout.String(), want)
	}

	cmd = NewCommand(&stdout)
	cmd.SetArgs([]string{"package", "--address", "no-port"})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil {
		t.Fatal("package with a bad address succeeded")
	}
}
