package builder_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dct-network/dct/network/builder"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name     string
		metadata *string // nil: no metadata.json
		want     bool
		wantErr  error
	}{
		{name: "ccaas", metadata: ptr(`{"type":"ccaas","label":"mycc"}`), want: true},
		{name: "uppercase CCAAS", metadata: ptr(`{"type":"CCAAS","label":"mycc"}`), want: true},
		{name: "mixed case", metadata: ptr(`{"path":"","type":"CCaaS","label":"x"}`), want: true},
		{name: "golang", metadata: ptr(`{"type":"golang","path":"github.com/x/cc","label":"mycc"}`), want: true},
		{name: "node", metadata: ptr(`{"type":"node","label":"mycc"}`), want: false},
		{name: "type missing", metadata: ptr(`{"label":"mycc"}`), want: false},
		{name: "ccaas with spaces", metadata: ptr(`{"type":" ccaas"}`), want: false},
		{name: "missing file", metadata: nil, wantErr: fs.ErrNotExist},
		{name: "bad JSON", metadata: ptr(`{"type":`), wantErr: builder.ErrInvalidMetadata},
		{name: "type not a string", metadata: ptr(`{"type":42}`), wantErr: builder.ErrInvalidMetadata},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mdDir := t.TempDir()
			if tc.metadata != nil {
				writeFile(t, filepath.Join(mdDir, builder.MetadataFile), []byte(*tc.metadata))
			}
			got, err := builder.Detect(t.TempDir(), mdDir)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Detect error = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), builder.MetadataFile) {
					t.Errorf("error %q does not name %s", err, builder.MetadataFile)
				}
				if got {
					t.Errorf("Detect = true alongside an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect: unexpected error %v", err)
			}
			if got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestBuild(t *testing.T) {
	p := getPKI(t)
	tests := []struct {
		name       string
		mdType     string
		connection *string // nil: no connection.json
		wantErr    error
		wantField  string // for validation failures, the field named in a *FieldError
		wantInMsg  string
	}{
		{name: "valid plaintext", connection: ptr(`{"address":"cc:9999","dial_timeout":"10s","tls_required":false}`)},
		{name: "valid minimal", connection: ptr(`{"address":"10.0.0.7:7052"}`)},
		{name: "valid IPv6", connection: ptr(`{"address":"[::1]:9999"}`)},
		{name: "valid tls", connection: ptr(string(mustJSON(t, map[string]any{
			"address": "cc:9999", "tls_required": true, "root_cert": p.RootCert,
		})))},
		{name: "valid mtls", connection: ptr(string(mustJSON(t, mtlsConnection(t))))},
		{name: "uppercase metadata type", mdType: "CCAAS", connection: ptr(`{"address":"cc:9999"}`)},
		{name: "not ccaas", mdType: "node", connection: ptr(`{"address":"cc:9999"}`), wantErr: builder.ErrNotCCaaS, wantInMsg: "metadata.json"},
		{name: "missing connection.json", connection: nil, wantErr: builder.ErrMissingConnection, wantInMsg: "connection.json"},
		{name: "bad JSON", connection: ptr(`{"address":`), wantErr: builder.ErrInvalidConnection},
		{name: "trailing data", connection: ptr(`{"address":"cc:1"} {}`), wantErr: builder.ErrInvalidConnection},
		{name: "unknown field", connection: ptr(`{"address":"cc:1","key_path":"x"}`), wantErr: builder.ErrInvalidConnection, wantInMsg: "key_path"},
		{name: "wrong type", connection: ptr(`{"address":"cc:1","tls_required":"true"}`), wantErr: builder.ErrInvalidConnection},
		{name: "address missing", connection: ptr(`{}`), wantErr: builder.ErrInvalidConnection, wantField: "address"},
		{name: "address without port", connection: ptr(`{"address":"cc"}`), wantErr: builder.ErrInvalidConnection, wantField: "address"},
		{name: "address empty host", connection: ptr(`{"address":":9999"}`), wantErr: builder.ErrInvalidConnection, wantField: "address"},
		{name: "address bad port", connection: ptr(`{"address":"cc:http"}`), wantErr: builder.ErrInvalidConnection, wantField: "address"},
		{name: "address port out of range", connection: ptr(`{"address":"cc:70000"}`), wantErr: builder.ErrInvalidConnection, wantField: "address"},
		{name: "address port zero", connection: ptr(`{"address":"cc:0"}`), wantErr: builder.ErrInvalidConnection, wantField: "address"},
		{name: "bad dial_timeout", connection: ptr(`{"address":"cc:1","dial_timeout":"10"}`), wantErr: builder.ErrInvalidConnection, wantField: "dial_timeout"},
		{name: "negative dial_timeout", connection: ptr(`{"address":"cc:1","dial_timeout":"-1s"}`), wantErr: builder.ErrInvalidConnection, wantField: "dial_timeout"},
		{name: "tls without root_cert", connection: ptr(`{"address":"cc:1","tls_required":true}`), wantErr: builder.ErrInvalidConnection, wantField: "root_cert"},
		{name: "tls root_cert not PEM", connection: ptr(`{"address":"cc:1","tls_required":true,"root_cert":"hello"}`), wantErr: builder.ErrInvalidConnection, wantField: "root_cert"},
		{name: "client auth without tls", connection: ptr(`{"address":"cc:1","client_auth_required":true}`), wantErr: builder.ErrInvalidConnection, wantField: "client_auth_required"},
		{name: "client auth without key", connection: ptr(string(mustJSON(t, map[string]any{
			"address": "cc:9999", "tls_required": true, "client_auth_required": true,
			"root_cert": p.RootCert, "client_cert": p.ClientCert,
		}))), wantErr: builder.ErrInvalidConnection, wantField: "client_key"},
		{name: "client auth without cert", connection: ptr(string(mustJSON(t, map[string]any{
			"address": "cc:9999", "tls_required": true, "client_auth_required": true,
			"root_cert": p.RootCert, "client_key": p.ClientKey,
		}))), wantErr: builder.ErrInvalidConnection, wantField: "client_cert"},
		{name: "client key does not match cert", connection: ptr(string(mustJSON(t, map[string]any{
			"address": "cc:9999", "tls_required": true, "client_auth_required": true,
			"root_cert": p.RootCert, "client_cert": p.ClientCert, "client_key": p.OtherKey,
		}))), wantErr: builder.ErrInvalidConnection, wantField: "client_key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, md, out := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "bld")
			mdType := tc.mdType
			if mdType == "" {
				mdType = "ccaas"
			}
			writeMetadata(t, md, mdType)
			if tc.connection != nil {
				writeFile(t, filepath.Join(src, builder.ConnectionFile), []byte(*tc.connection))
			}

			err := builder.Build(src, md, out)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				got := readFile(t, filepath.Join(out, builder.ConnectionFile))
				if !bytes.Equal(got, []byte(*tc.connection)) {
					t.Errorf("output connection.json = %s, want the input bytes unchanged", got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Build error = %v, want %v", err, tc.wantErr)
			}
			t.Logf("error: %v", err)
			wantInMsg := tc.wantInMsg
			if wantInMsg == "" {
				wantInMsg = filepath.Join(src, builder.ConnectionFile)
			}
			if !strings.Contains(err.Error(), wantInMsg) {
				t.Errorf("error %q does not contain %q", err, wantInMsg)
			}
			if tc.wantField != "" {
				var fe *builder.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.wantField {
					t.Errorf("error %v: want a *FieldError for field %q, got %+v", err, tc.wantField, fe)
				}
			}
			if _, statErr := os.Stat(filepath.Join(out, builder.ConnectionFile)); statErr == nil {
				t.Errorf("connection.json was written despite the error")
			}
		})
	}
}

func TestBuildReportsAllProblems(t *testing.T) {
	err := builder.Connection{Address: "nope", DialTimeout: "x", TLSRequired: true}.Validate()
	var ve *builder.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate error = %v, want *ValidationError", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	if want := []string{"address", "dial_timeout", "root_cert"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("problem fields = %v, want %v", fields, want)
	}
	if !errors.Is(err, builder.ErrInvalidConnection) {
		t.Errorf("error does not match ErrInvalidConnection")
	}
}

func TestBuildCopiesMETAINF(t *testing.T) {
	src, md, out := t.TempDir(), t.TempDir(), t.TempDir()
	writeMetadata(t, md, "ccaas")
	writeFile(t, filepath.Join(src, builder.ConnectionFile), []byte(`{"address":"cc:9999"}`))
	files := map[string]string{
		"META-INF/statedb/couchdb/indexes/indexOwner.json":                     `{"index":{"fields":["owner"]},"ddoc":"indexOwnerDoc","name":"indexOwner","type":"json"}`,
		"META-INF/statedb/couchdb/collections/private/indexes/indexColor.json": `{"index":{"fields":["color"]}}`,
		"META-INF/README": "notes",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(src, filepath.FromSlash(name)), []byte(content))
	}

	if err := builder.Build(src, md, out); err != nil {
		t.Fatalf("Build: %v", err)
	}
	for name, content := range files {
		got := readFile(t, filepath.Join(out, filepath.FromSlash(name)))
		if string(got) != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
}

func TestBuildWithoutMETAINF(t *testing.T) {
	src, md, out := t.TempDir(), t.TempDir(), t.TempDir()
	writeMetadata(t, md, "ccaas")
	writeFile(t, filepath.Join(src, builder.ConnectionFile), []byte(`{"address":"cc:9999"}`))
	if err := builder.Build(src, md, out); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, builder.MetaInfDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("META-INF should not exist in output, stat err = %v", err)
	}
}

func TestBuildRejectsSymlinks(t *testing.T) {
	t.Run("connection.json", func(t *testing.T) {
		src, md, out := t.TempDir(), t.TempDir(), t.TempDir()
		writeMetadata(t, md, "ccaas")
		real := filepath.Join(t.TempDir(), "real.json")
		writeFile(t, real, []byte(`{"address":"cc:9999"}`))
		if err := os.Symlink(real, filepath.Join(src, builder.ConnectionFile)); err != nil {
			t.Skipf("symlinks unsupported: %v", err)
		}
		if err := builder.Build(src, md, out); !errors.Is(err, builder.ErrUnsupportedFile) {
			t.Errorf("Build error = %v, want ErrUnsupportedFile", err)
		}
	})
	t.Run("inside META-INF", func(t *testing.T) {
		src, md, out := t.TempDir(), t.TempDir(), t.TempDir()
		writeMetadata(t, md, "ccaas")
		writeFile(t, filepath.Join(src, builder.ConnectionFile), []byte(`{"address":"cc:9999"}`))
		writeFile(t, filepath.Join(src, "META-INF", "statedb", "ok.json"), []byte(`{}`))
		if err := os.Symlink("/etc/passwd", filepath.Join(src, "META-INF", "statedb", "evil.json")); err != nil {
			t.Skipf("symlinks unsupported: %v", err)
		}
		err := builder.Build(src, md, out)
		if !errors.Is(err, builder.ErrUnsupportedFile) || !strings.Contains(err.Error(), "evil.json") {
			t.Errorf("Build error = %v, want ErrUnsupportedFile naming evil.json", err)
		}
	})
	t.Run("META-INF is a file", func(t *testing.T) {
		src, md, out := t.TempDir(), t.TempDir(), t.TempDir()
		writeMetadata(t, md, "ccaas")
		writeFile(t, filepath.Join(src, builder.ConnectionFile), []byte(`{"address":"cc:9999"}`))
		writeFile(t, filepath.Join(src, "META-INF"), []byte("x"))
		if err := builder.Build(src, md, out); !errors.Is(err, builder.ErrUnsupportedFile) {
			t.Errorf("Build error = %v, want ErrUnsupportedFile", err)
		}
	})
}

func TestRelease(t *testing.T) {
	conn := []byte(`{"address":"cc:9999","dial_timeout":"5s"}`)
	index := []byte(`{"index":{"fields":["owner"]},"name":"indexOwner","type":"json"}`)

	t.Run("layout with indexes", func(t *testing.T) {
		bld, rel := t.TempDir(), t.TempDir()
		writeFile(t, filepath.Join(bld, builder.ConnectionFile), conn)
		writeFile(t, filepath.Join(bld, "META-INF", "statedb", "couchdb", "indexes", "indexOwner.json"), index)
		writeFile(t, filepath.Join(bld, "META-INF", "other.txt"), []byte("not released"))

		if err := builder.Release(bld, rel); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if got := readFile(t, filepath.Join(rel, "chaincode", "server", "connection.json")); !bytes.Equal(got, conn) {
			t.Errorf("released connection.json = %s, want %s", got, conn)
		}
		if got := readFile(t, filepath.Join(rel, "statedb", "couchdb", "indexes", "indexOwner.json")); !bytes.Equal(got, index) {
			t.Errorf("released index = %s, want %s", got, index)
		}
		want := []string{
			"chaincode", "chaincode/server", "chaincode/server/connection.json",
			"statedb", "statedb/couchdb", "statedb/couchdb/indexes", "statedb/couchdb/indexes/indexOwner.json",
		}
		if got := listTree(t, rel); !reflect.DeepEqual(got, want) {
			t.Errorf("release tree = %v, want %v", got, want)
		}
	})

	t.Run("layout without indexes", func(t *testing.T) {
		bld, rel := t.TempDir(), t.TempDir()
		writeFile(t, filepath.Join(bld, builder.ConnectionFile), conn)
		if err := builder.Release(bld, rel); err != nil {
			t.Fatalf("Release: %v", err)
		}
		want := []string{"chaincode", "chaincode/server", "chaincode/server/connection.json"}
		if got := listTree(t, rel); !reflect.DeepEqual(got, want) {
			t.Errorf("release tree = %v, want %v", got, want)
		}
	})

	t.Run("creates missing release dir", func(t *testing.T) {
		bld := t.TempDir()
		rel := filepath.Join(t.TempDir(), "a", "b")
		writeFile(t, filepath.Join(bld, builder.ConnectionFile), conn)
		if err := builder.Release(bld, rel); err != nil {
			t.Fatalf("Release: %v", err)
		}
	})

	t.Run("missing connection.json", func(t *testing.T) {
		err := builder.Release(t.TempDir(), t.TempDir())
		if !errors.Is(err, builder.ErrMissingConnection) {
			t.Errorf("Release error = %v, want ErrMissingConnection", err)
		}
	})

	t.Run("invalid connection.json", func(t *testing.T) {
		bld := t.TempDir()
		writeFile(t, filepath.Join(bld, builder.ConnectionFile), []byte(`{"address":"nope"}`))
		err := builder.Release(bld, t.TempDir())
		if !errors.Is(err, builder.ErrInvalidConnection) {
			t.Errorf("Release error = %v, want ErrInvalidConnection", err)
		}
	})
}

// listTree returns every path under root, slash-separated and sorted.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		paths = append(paths, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestConnectionJSONShape checks the wire format that the peer parses. Empty
// optional strings must be left out, above all dial_timeout, because the
// peer rejects "".
func TestConnectionJSONShape(t *testing.T) {
	got := string(mustJSON(t, builder.Connection{Address: "cc:1"}))
	want := `{"address":"cc:1","tls_required":false,"client_auth_required":false}`
	if got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	full := mustJSON(t, mtlsConnection(t))
	var m map[string]any
	if err := json.Unmarshal(full, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"address", "dial_timeout", "tls_required", "client_auth_required", "root_cert", "client_key", "client_cert"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %s", k, full)
		}
	}
	if len(m) != 7 {
		t.Errorf("unexpected keys in %v", m)
	}
}
