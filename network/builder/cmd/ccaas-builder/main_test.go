package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dct-network/dct/network/builder"
)

// TestBinaryAsPeerWould builds the real binary, installs it in a builder
// directory as bin/detect, bin/build and bin/release, and runs them with the
// same arguments and the same kind of stripped environment that the peer uses.
func TestBinaryAsPeerWould(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	exe := buildBinary(t)

	layouts := map[string]func(t *testing.T, src, dst string){
		"copies":   copyExecutable,
		"symlinks": symlinkExecutable,
	}
	for layoutName, install := range layouts {
		t.Run(layoutName, func(t *testing.T) {
			builderDir := t.TempDir() // what chaincode.externalBuilders[].path points to
			bin := filepath.Join(builderDir, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, step := range []string{"detect", "build", "release"} {
				install(t, exe, filepath.Join(bin, step))
			}
			detect, build, release := filepath.Join(bin, "detect"), filepath.Join(bin, "build"), filepath.Join(bin, "release")

			pkg, err := builder.Package("asset_1.0", builder.Connection{Address: "asset-cc:9999", DialTimeout: "10s"})
			if err != nil {
				t.Fatal(err)
			}
			src, md := t.TempDir(), t.TempDir()
			extractPackage(t, pkg, src, md)
			bld := filepath.Join(t.TempDir(), "bld")
			rel := filepath.Join(t.TempDir(), "release")
			for _, d := range []string{bld, rel} { // the peer creates both before calling the builder
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}

			expectExit(t, 0, detect, src, md)
			expectExit(t, 0, build, src, md, bld)
			expectExit(t, 0, release, bld, rel)
			got, err := builder.ParseConnection(readFile(t, filepath.Join(rel, "chaincode", "server", "connection.json")))
			if err != nil || got.Address != "asset-cc:9999" {
				t.Fatalf("released connection = %+v, %v", got, err)
			}

			// A package of another type: detect says no (exit 1), without an error.
			goMD := t.TempDir()
			writeFile(t, filepath.Join(goMD, "metadata.json"), []byte(`{"type":"node","path":"x","label":"x"}`))
			expectExit(t, 1, detect, src, goMD)

			// Errors: exit 1 with a message that names the problem.
			if out := expectExit(t, 1, detect, src, t.TempDir()); !strings.Contains(out, "metadata.json") {
				t.Errorf("detect without metadata.json: stderr %q does not mention metadata.json", out)
			}
			badSrc := t.TempDir()
			writeFile(t, filepath.Join(badSrc, "connection.json"), []byte(`{"address":"asset-cc"}`))
			if out := expectExit(t, 1, build, badSrc, md, t.TempDir()); !strings.Contains(out, "connection.json") || !strings.Contains(out, "address") {
				t.Errorf("build with bad address: stderr %q should name connection.json and address", out)
			}
			if out := expectExit(t, 1, build, t.TempDir(), md, t.TempDir()); !strings.Contains(out, "connection.json not found") {
				t.Errorf("build without connection.json: stderr %q", out)
			}
			if out := expectExit(t, 1, release, t.TempDir(), t.TempDir()); !strings.Contains(out, "connection.json not found") {
				t.Errorf("release without connection.json: stderr %q", out)
			}
			expectExit(t, 1, detect, src)               // too few arguments
			expectExit(t, 1, build, src, md)            // too few arguments
			expectExit(t, 1, release, bld, rel, "more") // too many arguments
		})
	}

	t.Run("subcommand form", func(t *testing.T) {
		pkg, err := builder.Package("mycc", builder.Connection{Address: "cc:7052"})
		if err != nil {
			t.Fatal(err)
		}
		src, md, bld, rel := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
		extractPackage(t, pkg, src, md)
		expectExit(t, 0, exe, "detect", src, md)
		expectExit(t, 0, exe, "build", src, md, bld)
		expectExit(t, 0, exe, "release", bld, rel)
		readFile(t, filepath.Join(rel, "chaincode", "server", "connection.json"))
		expectExit(t, 1, exe)
		expectExit(t, 1, exe, "run", bld, rel)
		expectExit(t, 0, exe, "--help")
	})
}

func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go") // `go test` puts GOROOT/bin first on PATH
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	exe := filepath.Join(t.TempDir(), "ccaas-builder")
	cmd := exec.Command(goTool, "build", "-trimpath", "-o", exe, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// expectExit runs the program with the peer's stripped environment, checks
// the exit status, and returns stderr.
func expectExit(t *testing.T, want int, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = []string{"PATH=/nonexistent"} // no shell or tools are available
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	got := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		got = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", prog, err)
	}
	if got != want {
		t.Errorf("%s %s: exit %d, want %d; stderr: %s", filepath.Base(prog), strings.Join(args, " "), got, want, stderr.String())
	}
	return stderr.String()
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	writeFile(t, dst, readFile(t, src))
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlinkExecutable(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.Symlink(src, dst); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
}

// extractPackage does what the peer does before it calls a builder: it writes
// metadata.json to md and extracts code.tar.gz into src. Package always
// produces flat regular-file entries, so no path handling is needed.
func extractPackage(t *testing.T, pkg []byte, src, md string) {
	t.Helper()
	for name, data := range untarGz(t, pkg) {
		switch name {
		case "metadata.json":
			writeFile(t, filepath.Join(md, name), data)
		case "code.tar.gz":
			for n, d := range untarGz(t, data) {
				writeFile(t, filepath.Join(src, filepath.FromSlash(n)), d)
			}
		default:
			t.Fatalf("unexpected package entry %q", name)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRun checks how run dispatches, in-process (this runs under -short too).
func TestRun(t *testing.T) {
	md := t.TempDir()
	writeFile(t, filepath.Join(md, "metadata.json"), []byte(`{"type":"CCAAS","label":"x"}`))
	goMD := t.TempDir()
	writeFile(t, filepath.Join(goMD, "metadata.json"), []byte(`{"type":"node","label":"x"}`))
	src := t.TempDir()

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"argv0 detect", []string{"/builders/ccaas/bin/detect", src, md}, 0},
		{"argv0 detect other type", []string{"bin/detect", src, goMD}, 1},
		{"argv0 detect.exe", []string{`detect.exe`, src, md}, 0},
		{"subcommand detect", []string{"ccaas-builder", "detect", src, md}, 0},
		// The program name wins: "build" is the source dir argument to detect,
		// not a step. (Treated as a step, it would be a usage error: exit 1.)
		{"argv0 wins over arg", []string{"detect", "build", md}, 0},
		{"no args", []string{"ccaas-builder"}, 1},
		{"empty argv", nil, 1},
		{"unknown step", []string{"ccaas-builder", "run", "a", "b"}, 1},
		{"help", []string{"ccaas-builder", "-h"}, 0},
		{"wrong arg count", []string{"bin/release", "only-one"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(tc.args, io.Discard, &stderr); got != tc.want {
				t.Errorf("run(%q) = %d, want %d; stderr: %s", tc.args, got, tc.want, stderr.String())
			}
		})
	}
}
