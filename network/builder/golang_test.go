package builder_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dct-network/dct/network/builder"
)

// TestBuildGolang compiles a tiny vendored module as the peer would, with
// the test's own Go toolchain, then releases it (no connection.json: the
// peer runs it).
func TestBuildGolang(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a Go program")
	}
	src, md, out, rel := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "bld"), t.TempDir()
	writeFile(t, filepath.Join(md, builder.MetadataFile), []byte(`{"type":"golang","path":"example.com/cc/cmd/cc","label":"cc_1"}`))
	mod := filepath.Join(src, builder.GoSourceDir)
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module example.com/cc\n\ngo 1.21\n"))
	writeFile(t, filepath.Join(mod, "vendor", "modules.txt"), []byte(""))
	writeFile(t, filepath.Join(mod, "cmd", "cc", "main.go"), []byte("package main\n\nfunc main() { println(\"cc\") }\n"))
	writeFile(t, filepath.Join(src, "META-INF", "statedb", "couchdb", "indexes", "i.json"), []byte(`{}`))

	t.Setenv(builder.EnvGoRoot, "")
	t.Setenv("GOROOT", "")
	if err := builder.Build(src, md, out); !errors.Is(err, builder.ErrNoToolchain) {
		t.Fatalf("Build without a toolchain: %v, want ErrNoToolchain", err)
	}
	// The test's own toolchain and build cache (the standard library
	// compiled already); a peer's build starts from an empty cache unless
	// the operator shares one.
	goenv, err := exec.Command("go", "env", "GOROOT", "GOCACHE").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	f := strings.Fields(string(goenv))
	if len(f) != 2 {
		t.Fatalf("go env: %q", goenv)
	}
	t.Setenv(builder.EnvGoRoot, f[0])
	t.Setenv(builder.EnvGoCache, f[1])
	if err := builder.Build(src, md, out); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(filepath.Join(out, builder.ChaincodeBinary)).CombinedOutput(); err != nil || !strings.Contains(string(b), "cc") {
		t.Fatalf("compiled chaincode: %q, %v", b, err)
	}
	if err := builder.Release(out, rel); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rel, "statedb", "couchdb", "indexes", "i.json")); err != nil {
		t.Errorf("released indexes: %v", err)
	}
	if _, err := os.Stat(filepath.Join(rel, filepath.FromSlash(builder.ReleaseConnectionPath))); err == nil {
		t.Errorf("a golang release wrote connection.json")
	}

	// Not vendored: refused before compiling.
	if err := os.RemoveAll(filepath.Join(mod, "vendor")); err != nil {
		t.Fatal(err)
	}
	if err := builder.Build(src, md, t.TempDir()); !errors.Is(err, builder.ErrUnsupportedFile) || !strings.Contains(err.Error(), "vendor") {
		t.Fatalf("Build without vendor/: %v, want ErrUnsupportedFile naming vendor", err)
	}
}

func TestRunCommand(t *testing.T) {
	out := t.TempDir()
	writeFile(t, filepath.Join(out, builder.ChaincodeBinary), []byte("binary"))
	tests := []struct {
		name, json string
		wantErr    error
		wantEnv    []string
	}{
		{name: "tls", json: `{"chaincode_id":"cc_1:ab","peer_address":"peer0:7052","client_cert":"C","client_key":"K","root_cert":"R","mspid":"BankDMSP"}`,
			wantEnv: []string{"CORE_CHAINCODE_ID_NAME=cc_1:ab", "CORE_PEER_LOCALMSPID=BankDMSP", "CORE_PEER_TLS_ENABLED=true"}},
		{name: "plain", json: `{"chaincode_id":"cc_1:ab","peer_address":"peer0:7052","mspid":"BankDMSP"}`,
			wantEnv: []string{"CORE_PEER_TLS_ENABLED=false"}},
		{name: "no id", json: `{"peer_address":"peer0:7052","mspid":"M"}`, wantErr: builder.ErrInvalidRunMetadata},
		{name: "key without cert", json: `{"chaincode_id":"c","peer_address":"p:1","mspid":"M","client_key":"K","root_cert":"R"}`, wantErr: builder.ErrInvalidRunMetadata},
		{name: "bad json", json: `{`, wantErr: builder.ErrInvalidRunMetadata},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			meta, tls := t.TempDir(), t.TempDir()
			writeFile(t, filepath.Join(meta, builder.RunMetadataFile), []byte(tc.json))
			path, args, env, err := builder.RunCommand(out, meta, tls)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("RunCommand: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != filepath.Join(out, builder.ChaincodeBinary) || !slices.Contains(args, "-peer.address=peer0:7052") {
				t.Errorf("command %s %v", path, args)
			}
			for _, e := range tc.wantEnv {
				if !slices.Contains(env, e) {
					t.Errorf("env %v lacks %s", env, e)
				}
			}
			for _, e := range env {
				if name, file, ok := strings.Cut(e, "="); ok && strings.HasSuffix(name, "_FILE") {
					b, err := os.ReadFile(file)
					fi, _ := os.Stat(file)
					if err != nil || len(b) != 1 || fi.Mode().Perm() != 0o600 {
						t.Errorf("%s: %q, %v, mode %v", name, b, err, fi.Mode())
					}
				}
			}
		})
	}
}
