package builder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Standard Go packages (metadata.json type "golang"), as `peer lifecycle
// chaincode package --lang golang` writes them: code.tar.gz holds the Go
// module under src/ (with its dependencies vendored in src/vendor) and
// metadata.json's path is the import path of the chaincode's main package.
const (
	// TypeGolang is the metadata.json type of a standard Go package.
	TypeGolang = "golang"
	// GoSourceDir is the module's directory inside CHAINCODE_SOURCE_DIR.
	GoSourceDir = "src"
	// ChaincodeBinary is the compiled chaincode in the build output.
	ChaincodeBinary = "chaincode"
	// EnvGoRoot names the Go toolchain (a GOROOT: bin/go inside) the build
	// step compiles with. The peer passes builders only the variables its
	// core.yaml lists under the builder's propagateEnvironment, so the
	// operator lists it there (GOROOT is read too).
	EnvGoRoot = "DCT_BUILDER_GOROOT"
	// EnvGoCache is an optional writable build cache shared by builds
	// (default: a fresh directory per build, removed after it).
	EnvGoCache = "DCT_BUILDER_GOCACHE"
	// RunMetadataFile is what the peer writes in RUN_METADATA_DIR for bin/run.
	RunMetadataFile = "chaincode.json"
)

var (
	// ErrNoToolchain means no Go toolchain was named for a golang build.
	ErrNoToolchain = errors.New("no Go toolchain: set " + EnvGoRoot + " on the peer and list it in the builder's propagateEnvironment")
	// ErrGoBuild means the go command failed to compile the package.
	ErrGoBuild = errors.New("go build failed")
	// ErrInvalidRunMetadata means chaincode.json is missing a field or malformed.
	ErrInvalidRunMetadata = errors.New("invalid chaincode.json")
)

// IsGolang reports whether the metadata declares type "golang", ignoring case.
func (m Metadata) IsGolang() bool { return strings.EqualFold(m.Type, TypeGolang) }

// buildGolang compiles sourceDir/src's package md.Path, offline and from the
// vendored dependencies only, into outputDir/chaincode, and copies
// sourceDir/META-INF when present. getenv gives the toolchain (EnvGoRoot or
// GOROOT) and the optional cache (EnvGoCache); the go command's output goes
// to log (the peer logs a builder's stderr).
func buildGolang(sourceDir string, md Metadata, outputDir string, getenv func(string) string, log io.Writer) error {
	if md.Path == "" || strings.ContainsAny(md.Path, " \t\n") || strings.HasPrefix(md.Path, "-") {
		return fmt.Errorf("%w: path %q is not a Go import path", ErrInvalidMetadata, md.Path)
	}
	goroot := getenv(EnvGoRoot)
	if goroot == "" {
		goroot = getenv("GOROOT")
	}
	if goroot == "" {
		return ErrNoToolchain
	}
	goBin := filepath.Join(goroot, "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		return fmt.Errorf("%w: %w", ErrNoToolchain, err)
	}
	src := filepath.Join(sourceDir, GoSourceDir)
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return fmt.Errorf("%w: the package has no Go module at %s/go.mod (GOPATH packages are not supported): %w", ErrUnsupportedFile, GoSourceDir, err)
	}
	if _, err := os.Stat(filepath.Join(src, "vendor", "modules.txt")); err != nil {
		return fmt.Errorf("%w: the package's dependencies are not vendored (run go mod vendor before packaging): %w", ErrUnsupportedFile, err)
	}
	if err := os.MkdirAll(outputDir, 0o755); err != nil {
		return fmt.Errorf("create build output directory: %w", err)
	}
	tmp, err := os.MkdirTemp("", "dct-go-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cache := getenv(EnvGoCache)
	if cache == "" {
		cache = filepath.Join(tmp, "cache")
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", filepath.Join(outputDir, ChaincodeBinary), md.Path)
	cmd.Dir = src
	cmd.Env = []string{
		"GOROOT=" + goroot, "PATH=" + filepath.Join(goroot, "bin"), "HOME=" + tmp, "TMPDIR=" + tmp,
		"GOPATH=" + filepath.Join(tmp, "gopath"), "GOCACHE=" + cache, "GOFLAGS=-mod=vendor",
		"GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0",
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrGoBuild, md.Path, err)
	}
	return copyDirIfExists(filepath.Join(sourceDir, MetaInfDir), filepath.Join(outputDir, MetaInfDir))
}

// RunMetadata is the peer's chaincode.json for bin/run: how the chaincode
// reaches the peer (client mode).
type RunMetadata struct {
	ChaincodeID string `json:"chaincode_id"`
	PeerAddress string `json:"peer_address"`
	ClientCert  string `json:"client_cert"`
	ClientKey   string `json:"client_key"`
	RootCert    string `json:"root_cert"`
	MSPID       string `json:"mspid"`
}

// Validate checks that the fields the chaincode needs are set.
func (m RunMetadata) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"chaincode_id", m.ChaincodeID}, {"peer_address", m.PeerAddress}, {"mspid", m.MSPID}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not set", ErrInvalidRunMetadata, strings.Join(missing, ", "))
	}
	if (m.ClientCert == "") != (m.ClientKey == "") || (m.ClientCert != "" && m.RootCert == "") {
		return fmt.Errorf("%w: TLS needs client_cert, client_key and root_cert together", ErrInvalidRunMetadata)
	}
	return nil
}

// TLS reports whether the peer asks for TLS.
func (m RunMetadata) TLS() bool { return m.ClientCert != "" }

// ReadRunMetadata reads runMetadataDir/chaincode.json.
func ReadRunMetadata(runMetadataDir string) (RunMetadata, error) {
	path := filepath.Join(runMetadataDir, RunMetadataFile)
	data, err := readSmallFile(path)
	if err != nil {
		return RunMetadata{}, err
	}
	var m RunMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		return RunMetadata{}, fmt.Errorf("%s: %w: %w", path, ErrInvalidRunMetadata, err)
	}
	if err := m.Validate(); err != nil {
		return RunMetadata{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// RunCommand prepares bin/run of a golang package: the chaincode binary of
// buildOutputDir, started in client mode with the settings of the peer's
// chaincode.json in the environment the Fabric Go shim reads
// (CORE_CHAINCODE_ID_NAME, CORE_PEER_TLS_ENABLED, CORE_TLS_CLIENT_KEY_FILE,
// CORE_TLS_CLIENT_CERT_FILE, CORE_PEER_TLS_ROOTCERT_FILE,
// CORE_PEER_LOCALMSPID) and its -peer.address flag. The TLS material is
// written, readable by the peer's user only, in a new directory under
// tlsDir. It returns the program, its arguments and its environment.
func RunCommand(buildOutputDir, runMetadataDir, tlsDir string) (path string, args, env []string, err error) {
	m, err := ReadRunMetadata(runMetadataDir)
	if err != nil {
		return "", nil, nil, err
	}
	path = filepath.Join(buildOutputDir, ChaincodeBinary)
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%w: no compiled chaincode in the build output: %w", ErrUnsupportedFile, err)
	}
	if !fi.Mode().IsRegular() {
		return "", nil, nil, fmt.Errorf("%s: %w: not a regular file", path, ErrUnsupportedFile)
	}
	env = []string{"CORE_CHAINCODE_ID_NAME=" + m.ChaincodeID, "CORE_PEER_LOCALMSPID=" + m.MSPID, "CORE_PEER_TLS_ENABLED=" + fmt.Sprint(m.TLS())}
	if m.TLS() {
		dir, err := os.MkdirTemp(tlsDir, "dct-chaincode-tls-")
		if err != nil {
			return "", nil, nil, err
		}
		files := map[string]string{"client.crt": m.ClientCert, "client.key": m.ClientKey, "root.crt": m.RootCert}
		for name, pemText := range files {
			if err := writeFile(filepath.Join(dir, name), []byte(pemText), 0o600); err != nil {
				return "", nil, nil, err
			}
		}
		env = append(env,
			"CORE_TLS_CLIENT_CERT_FILE="+filepath.Join(dir, "client.crt"),
			"CORE_TLS_CLIENT_KEY_FILE="+filepath.Join(dir, "client.key"),
			"CORE_PEER_TLS_ROOTCERT_FILE="+filepath.Join(dir, "root.crt"))
	}
	return path, []string{path, "-peer.address=" + m.PeerAddress}, env, nil
}
