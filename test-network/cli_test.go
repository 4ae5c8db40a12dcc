package testnetwork

import (
	"bytes"
	"errors"
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

// TestMalformedEnv: a malformed DCT_… variable stops a command before it
// does anything.
func TestMalformedEnv(t *testing.T) {
	tests := []struct {
		args             []string
		env, value, want string
	}{
		{[]string{"up"}, "DCT_BASE_PORT", "seven", `DCT_BASE_PORT="seven": want an integer`},
		{[]string{"up"}, "DCT_READY_TIMEOUT", "5x", `DCT_READY_TIMEOUT="5x": want a duration such as 1.5s`},
		{[]string{"up"}, "DCT_MESH", "sometimes", `DCT_MESH="sometimes": want true or false`},
		{[]string{"down"}, "DCT_KEEP_STATE", "perhaps", `DCT_KEEP_STATE="perhaps"`},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			cmd := NewCommand(&bytes.Buffer{})
			cmd.SetArgs(append(tc.args, "--run-dir", t.TempDir()))
			err := cmd.Execute()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v: %v, want ErrConfig mentioning %q", tc.args, err, tc.want)
			}
		})
	}
}
