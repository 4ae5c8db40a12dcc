package builder_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/dct-network/dct/network/builder"
)

func TestPackageRoundTrip(t *testing.T) {
	conns := map[string]builder.Connection{
		"plaintext": {Address: "asset-cc:9999"},
		"mtls":      mtlsConnection(t),
	}
	for name, conn := range conns {
		t.Run(name, func(t *testing.T) {
			const label = "asset-transfer_1.0"
			pkg, err := builder.Package(label, conn)
			if err != nil {
				t.Fatalf("Package: %v", err)
			}

			entries := readTarGz(t, pkg)
			var names []string
			for _, e := range entries {
				names = append(names, e.Header.Name)
				checkHeader(t, e.Header)
			}
			if want := []string{builder.CodePackageFile, builder.MetadataFile}; !reflect.DeepEqual(names, want) {
				t.Fatalf("package entries = %v, want %v", names, want)
			}
			if got, want := string(entries[1].Data), `{"type":"ccaas","label":"asset-transfer_1.0"}`; got != want {
				t.Errorf("metadata.json = %s, want %s", got, want)
			}
			code := readTarGz(t, entries[0].Data)
			if len(code) != 1 || code[0].Header.Name != builder.ConnectionFile {
				t.Fatalf("code.tar.gz entries = %+v, want only connection.json", code)
			}
			checkHeader(t, code[0].Header)

			src, md, bld, rel := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
			installLikePeer(t, pkg, src, md)

			ok, err := builder.Detect(src, md)
			if err != nil || !ok {
				t.Fatalf("Detect = %v, %v; want true, nil", ok, err)
			}
			if err := builder.Build(src, md, bld); err != nil {
				t.Fatalf("Build: %v", err)
			}
			if err := builder.Release(bld, rel); err != nil {
				t.Fatalf("Release: %v", err)
			}

			released := readFile(t, filepath.Join(rel, filepath.FromSlash(builder.ReleaseConnectionPath)))
			got, err := builder.ParseConnection(released)
			if err != nil {
				t.Fatalf("ParseConnection(released): %v", err)
			}
			if got != conn {
				t.Errorf("released connection = %+v, want %+v", got, conn)
			}
			// The peer decodes into its own struct. Make sure the generic
			// shape decodes too.
			var generic map[string]any
			if err := json.Unmarshal(released, &generic); err != nil {
				t.Fatalf("released connection.json is not JSON: %v", err)
			}
			if dt, ok := generic["dial_timeout"]; ok {
				if s, _ := dt.(string); s == "" {
					t.Errorf("dial_timeout present but empty; the peer rejects that")
				}
			}
		})
	}
}

func checkHeader(t *testing.T, h *tar.Header) {
	t.Helper()
	if h.Typeflag != tar.TypeReg {
		t.Errorf("%s: typeflag %q, want regular file", h.Name, h.Typeflag)
	}
	if h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
		t.Errorf("%s: mode %o uid %d gid %d uname %q gname %q; want 0644/0/0/\"\"/\"\"", h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname)
	}
	if !h.ModTime.Equal(time.Unix(0, 0)) {
		t.Errorf("%s: modtime %v, want the Unix epoch", h.Name, h.ModTime)
	}
}

func TestPackageDeterministic(t *testing.T) {
	conn := mtlsConnection(t)
	a, err := builder.Package("mycc", conn)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a wall-clock timestamp would change now
	b, err := builder.Package("mycc", conn)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("Package is not deterministic")
	}
	if builder.PackageID("mycc", a) != builder.PackageID("mycc", b) {
		t.Fatalf("package IDs differ")
	}

	c, err := builder.Package("mycc", builder.Connection{Address: "other:9999"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Errorf("different connections produced identical packages")
	}
	d, err := builder.Package("mycc2", conn)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, d) {
		t.Errorf("different labels produced identical packages")
	}
}

func TestPackageLabel(t *testing.T) {
	conn := builder.Connection{Address: "cc:9999"}
	for _, label := range []string{"0", "a", "a-", "a++b", "a__b", "mycc_1.0", "basic-1.2+build.3", "Asset_Transfer"} {
		if _, err := builder.Package(label, conn); err != nil {
			t.Errorf("Package(%q): unexpected error %v", label, err)
		}
	}
	for _, label := range []string{"", ".", "_", "-a", "+a", "a:b", "a b", "a#", "a$", "a/b", "ünïcode"} {
		_, err := builder.Package(label, conn)
		if !errors.Is(err, builder.ErrInvalidLabel) {
			t.Errorf("Package(%q) error = %v, want ErrInvalidLabel", label, err)
		}
	}
}

func TestPackageInvalidConnection(t *testing.T) {
	_, err := builder.Package("mycc", builder.Connection{Address: "cc:9999", TLSRequired: true})
	if !errors.Is(err, builder.ErrInvalidConnection) {
		t.Fatalf("Package error = %v, want ErrInvalidConnection", err)
	}
	var fe *builder.FieldError
	if !errors.As(err, &fe) || fe.Field != "root_cert" {
		t.Errorf("want FieldError for root_cert, got %v", err)
	}
}

func TestPackageID(t *testing.T) {
	// sha256("abc") is a well-known test vector.
	if got, want := builder.PackageID("mycc", []byte("abc")),
		"mycc:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("PackageID = %s, want %s", got, want)
	}

	pkg, err := builder.Package("asset_1.0", builder.Connection{Address: "cc:9999"})
	if err != nil {
		t.Fatal(err)
	}
	id := builder.PackageID("asset_1.0", pkg)
	if !regexp.MustCompile(`^asset_1\.0:[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("PackageID = %q, want label:64 lowercase hex digits", id)
	}
}
