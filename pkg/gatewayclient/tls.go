package gatewayclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrTLS marks unusable client TLS files.
var ErrTLS = errors.New("client TLS")

// TLSFiles name a member identity and the CA of the gateway's admin
// listener: Cert and Key (PEM), or MSPDir, an MSP directory whose
// signcerts/ holds the enrollment certificate and keystore/ its key; CACert
// is a PEM bundle verifying the gateway's TLS certificate (empty: the
// system roots).
type TLSFiles struct {
	Cert, Key string
	MSPDir    string
	CACert    string
}

// TLSConfig loads a TLS client configuration presenting the identity.
// Explicit Cert and Key win over MSPDir.
func TLSConfig(f TLSFiles) (*tls.Config, error) {
	cert, key := f.Cert, f.Key
	if f.MSPDir != "" {
		var err error
		if cert == "" {
			if cert, err = onlyFile(filepath.Join(f.MSPDir, "signcerts")); err != nil {
				return nil, err
			}
		}
		if key == "" {
			if key, err = onlyFile(filepath.Join(f.MSPDir, "keystore")); err != nil {
				return nil, err
			}
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLS, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert != "" || key != "":
		return nil, fmt.Errorf("%w: give both a certificate and a key (or an MSP directory)", ErrTLS)
	}
	if f.CACert != "" {
		b, err := os.ReadFile(f.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLS, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%w: no PEM certificate in %s", ErrTLS, f.CACert)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// onlyFile is the one regular file of dir.
func onlyFile(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("%w: MSP directory: %w", ErrTLS, err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) != 1 {
		return "", fmt.Errorf("%w: MSP directory: %s holds %d files, want exactly one", ErrTLS, dir, len(files))
	}
	return files[0], nil
}
