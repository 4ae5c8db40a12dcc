package builder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"
)

// labelRegexp is the label rule that Fabric's peer enforces on install.
var labelRegexp = regexp.MustCompile(`^[[:alnum:]][[:alnum:]_.+-]*$`)

// fixedModTime is the modification time of every entry in generated archives.
var fixedModTime = time.Unix(0, 0).UTC()

// ValidateLabel checks label against Fabric's package label rule
// ^[[:alnum:]][[:alnum:]_.+-]*$. Errors wrap [ErrInvalidLabel].
func ValidateLabel(label string) error {
	if !labelRegexp.MatchString(label) {
		return fmt.Errorf("%w %q: must start with a letter or digit and contain only letters, digits and '_', '.', '+', '-'", ErrInvalidLabel, label)
	}
	return nil
}

// Package builds a CCaaS chaincode package for `peer lifecycle chaincode
// install`: a gzipped tar that holds metadata.json ({"type":"ccaas",
// "label":label}) and code.tar.gz (a gzipped tar that holds connection.json).
// It validates the label and the connection first.
//
// The output is deterministic. Entries are sorted by name, and every entry
// has a fixed mode (0644), uid/gid 0, no user or group names, and a fixed
// modification time. The gzip headers carry no name or time. So the same
// inputs always give the same bytes, and the same package ID, with a given
// Go toolchain.
func Package(label string, conn Connection) ([]byte, error) {
	if err := ValidateLabel(label); err != nil {
		return nil, err
	}
	if err := conn.Validate(); err != nil {
		return nil, err
	}

	connJSON, err := json.MarshalIndent(conn, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ConnectionFile, err)
	}
	connJSON = append(connJSON, '\n')

	code, err := tarGz(map[string][]byte{ConnectionFile: connJSON})
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", CodePackageFile, err)
	}

	mdJSON, err := json.Marshal(Metadata{Type: TypeCCaaS, Label: label})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", MetadataFile, err)
	}

	pkg, err := tarGz(map[string][]byte{
		MetadataFile:    mdJSON,
		CodePackageFile: code,
	})
	if err != nil {
		return nil, fmt.Errorf("write chaincode package: %w", err)
	}
	return pkg, nil
}

// PackageID returns the ID that a Fabric 2.x peer assigns to an installed
// package: label + ":" + hex(sha256(pkg)). pkg must be the exact bytes that
// are installed.
func PackageID(label string, pkg []byte) string {
	sum := sha256.Sum256(pkg)
	return label + ":" + hex.EncodeToString(sum[:])
}

// tarGz writes files as a deterministic gzipped USTAR archive of regular
// files, in name order.
func tarGz(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	gw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gw)
	for _, name := range names {
		data := files[name]
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Size:     int64(len(data)),
			Mode:     0o644,
			ModTime:  fixedModTime,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
