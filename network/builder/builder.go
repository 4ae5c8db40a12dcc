package builder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File and directory names used by the builder contract and the package format.
const (
	// TypeCCaaS is the metadata.json type that this builder claims.
	TypeCCaaS = "ccaas"
	// MetadataFile is the package metadata, found in CHAINCODE_METADATA_DIR
	// and at the top level of a lifecycle package.
	MetadataFile = "metadata.json"
	// CodePackageFile is the gzipped tar of chaincode "source" inside a
	// lifecycle package.
	CodePackageFile = "code.tar.gz"
	// ConnectionFile is the connection descriptor, found in the code package
	// and in the build output.
	ConnectionFile = "connection.json"
	// MetaInfDir holds optional state database index definitions, e.g.
	// META-INF/statedb/couchdb/indexes/*.json.
	MetaInfDir = "META-INF"
	// ReleaseConnectionPath is where the peer expects connection.json,
	// relative to RELEASE_OUTPUT_DIR.
	ReleaseConnectionPath = "chaincode/server/connection.json"
	// ReleaseStateDBDir is where the peer expects index definitions,
	// relative to RELEASE_OUTPUT_DIR.
	ReleaseStateDBDir = "statedb"
)

// maxJSONFileSize limits how much of metadata.json or connection.json is read.
// Real files are a few KiB at most.
const maxJSONFileSize = 1 << 20

// Metadata is the content of a lifecycle package's metadata.json.
type Metadata struct {
	Type  string `json:"type"`
	Label string `json:"label"`
	Path  string `json:"path,omitempty"`
}

// IsCCaaS reports whether the metadata declares type "ccaas", ignoring case.
func (m Metadata) IsCCaaS() bool { return strings.EqualFold(m.Type, TypeCCaaS) }

// ReadMetadata reads and decodes metadataDir/metadata.json. A missing file
// gives an error that matches fs.ErrNotExist. Malformed JSON gives an error
// that wraps [ErrInvalidMetadata].
func ReadMetadata(metadataDir string) (Metadata, error) {
	path := filepath.Join(metadataDir, MetadataFile)
	data, err := readSmallFile(path)
	if err != nil {
		return Metadata{}, err
	}
	var md Metadata
	if err := json.Unmarshal(data, &md); err != nil {
		return Metadata{}, fmt.Errorf("%s: %w: %w", path, ErrInvalidMetadata, err)
	}
	return md, nil
}

// Detect reports whether this builder applies to the package, that is,
// whether metadataDir/metadata.json declares type "ccaas" or "golang"
// (case-insensitive). sourceDir is not used. A package of another type
// gives (false, nil). An unreadable or malformed metadata.json gives an
// error.
func Detect(sourceDir, metadataDir string) (bool, error) {
	md, err := ReadMetadata(metadataDir)
	if err != nil {
		return false, err
	}
	return md.IsCCaaS() || md.IsGolang(), nil
}

// Build checks that the package is a CCaaS package, then validates
// sourceDir/connection.json and copies it byte for byte to
// outputDir/connection.json. If sourceDir/META-INF exists, Build copies it
// recursively to outputDir/META-INF. It creates outputDir if needed.
//
// Errors name the offending file and wrap [ErrNotCCaaS],
// [ErrMissingConnection], [ErrInvalidConnection], [ErrInvalidMetadata] or
// [ErrUnsupportedFile], as appropriate.
func Build(sourceDir, metadataDir, outputDir string) error {
	md, err := ReadMetadata(metadataDir)
	if err != nil {
		return err
	}
	if md.IsGolang() {
		return buildGolang(sourceDir, md, outputDir, os.Getenv, os.Stderr)
	}
	if !md.IsCCaaS() {
		return fmt.Errorf("%s: %w (type is %q)", filepath.Join(metadataDir, MetadataFile), ErrNotCCaaS, md.Type)
	}

	src := filepath.Join(sourceDir, ConnectionFile)
	data, err := readConnectionFile(src)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(outputDir, 0o755); err != nil {
		return fmt.Errorf("create build output directory: %w", err)
	}
	dst := filepath.Join(outputDir, ConnectionFile)
	if err := writeFile(dst, data, 0o600); err != nil {
		return err
	}

	return copyDirIfExists(filepath.Join(sourceDir, MetaInfDir), filepath.Join(outputDir, MetaInfDir))
}

// Release checks buildOutputDir/connection.json again and copies it to
// releaseDir/chaincode/server/connection.json. If
// buildOutputDir/META-INF/statedb exists, Release copies it recursively to
// releaseDir/statedb, where the peer picks up CouchDB index definitions.
func Release(buildOutputDir, releaseDir string) error {
	if fi, err := os.Lstat(filepath.Join(buildOutputDir, ChaincodeBinary)); err == nil && fi.Mode().IsRegular() {
		// A compiled golang package: the peer starts it with bin/run.
		return copyDirIfExists(filepath.Join(buildOutputDir, MetaInfDir, "statedb"), filepath.Join(releaseDir, ReleaseStateDBDir))
	}
	src := filepath.Join(buildOutputDir, ConnectionFile)
	data, err := readConnectionFile(src)
	if err != nil {
		return err
	}

	dst := filepath.Join(releaseDir, filepath.FromSlash(ReleaseConnectionPath))
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("create release directory: %w", err)
	}
	if err := writeFile(dst, data, 0o600); err != nil {
		return err
	}

	return copyDirIfExists(
		filepath.Join(buildOutputDir, MetaInfDir, "statedb"),
		filepath.Join(releaseDir, ReleaseStateDBDir),
	)
}

// readConnectionFile reads, parses and validates a connection.json file. It
// returns the original bytes, and errors that name the file.
func readConnectionFile(path string) ([]byte, error) {
	data, err := readSmallFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrMissingConnection)
	}
	if err != nil {
		return nil, err
	}
	conn, err := ParseConnection(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := conn.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// readSmallFile reads a regular file of at most maxJSONFileSize bytes. It
// refuses symlinks and other non-regular files.
func readSmallFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err // *fs.PathError already names the file
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file (%s)", path, ErrUnsupportedFile, fi.Mode().Type())
	}
	if fi.Size() > maxJSONFileSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrUnsupportedFile, maxJSONFileSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJSONFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxJSONFileSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrUnsupportedFile, maxJSONFileSize)
	}
	return data, nil
}

func writeFile(path string, data []byte, perm fs.FileMode) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// copyDirIfExists copies the tree at src to dst when src exists. A src that
// exists but is not a directory is an error.
func copyDirIfExists(src, dst string) error {
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w: expected a directory (%s)", src, ErrUnsupportedFile, fi.Mode().Type())
	}
	return copyTree(src, dst)
}

// copyTree copies directories and regular files from src to dst, replacing
// files that already exist. Symlinks and special files are refused, because
// the peer only ever extracts regular files and directories.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", target, err)
			}
			return nil
		case d.Type().IsRegular():
			return copyFile(path, target)
		default:
			return fmt.Errorf("%s: %w: not a regular file or directory (%s)", path, ErrUnsupportedFile, d.Type())
		}
	})
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm()|0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", dst, cerr)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}
