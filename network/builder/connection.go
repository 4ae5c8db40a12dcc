package builder

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Connection describes how the peer reaches a chaincode server. It is stored
// as connection.json in a CCaaS package and read by the peer from
// <release>/chaincode/server/connection.json.
//
// The optional string fields are left out of the JSON when they are empty.
// This matters for dial_timeout: the peer rejects an empty string, but uses
// its default (3s) when the key is absent.
type Connection struct {
	// Address of the chaincode server as host:port, e.g. "asset-cc:9999".
	Address string `json:"address"`
	// DialTimeout is an optional Go duration string such as "10s".
	DialTimeout string `json:"dial_timeout,omitempty"`
	// TLSRequired makes the peer use TLS. RootCert is then required.
	TLSRequired bool `json:"tls_required"`
	// ClientAuthRequired makes the peer present ClientCert/ClientKey
	// (mutual TLS). It requires TLSRequired.
	ClientAuthRequired bool `json:"client_auth_required"`
	// RootCert holds the PEM CA certificate(s) that verify the chaincode
	// server's TLS certificate.
	RootCert string `json:"root_cert,omitempty"`
	// ClientKey is the PEM private key that the peer uses for client auth.
	ClientKey string `json:"client_key,omitempty"`
	// ClientCert is the PEM certificate that the peer uses for client auth.
	ClientCert string `json:"client_cert,omitempty"`
}

// ParseConnection decodes connection.json content strictly: unknown fields,
// wrong value types and trailing data are errors. It does not validate the
// values; call [Connection.Validate] for that. Errors wrap
// [ErrInvalidConnection].
func ParseConnection(data []byte) (Connection, error) {
	var c Connection
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return Connection{}, fmt.Errorf("%w: empty document", ErrInvalidConnection)
		}
		return Connection{}, fmt.Errorf("%w: %w", ErrInvalidConnection, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Connection{}, fmt.Errorf("%w: unexpected data after the JSON object", ErrInvalidConnection)
	}
	return c, nil
}

// Validate checks the connection the way the peer will use it, and also
// rejects combinations that the peer would silently ignore. It reports every
// problem it finds in a *[ValidationError], which wraps [ErrInvalidConnection].
func (c Connection) Validate() error {
	var problems []*FieldError
	add := func(field, format string, args ...any) {
		problems = append(problems, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}

	if c.Address == "" {
		add("address", "required (host:port)")
	} else if err := validateAddress(c.Address); err != nil {
		add("address", "%q: %v", c.Address, err)
	}

	if c.DialTimeout != "" {
		d, err := time.ParseDuration(c.DialTimeout)
		switch {
		case err != nil:
			add("dial_timeout", "%q is not a Go duration such as \"10s\"", c.DialTimeout)
		case d <= 0:
			add("dial_timeout", "%q must be positive", c.DialTimeout)
		}
	}

	if c.ClientAuthRequired && !c.TLSRequired {
		add("client_auth_required", "requires tls_required to be true")
	}

	if c.TLSRequired {
		if strings.TrimSpace(c.RootCert) == "" {
			add("root_cert", "required when tls_required is true")
		} else if err := validateCertsPEM(c.RootCert); err != nil {
			add("root_cert", "%v", err)
		}
	}

	if c.TLSRequired && c.ClientAuthRequired {
		certOK, keyOK := true, true
		if strings.TrimSpace(c.ClientCert) == "" {
			add("client_cert", "required when client_auth_required is true")
			certOK = false
		} else if err := validateCertsPEM(c.ClientCert); err != nil {
			add("client_cert", "%v", err)
			certOK = false
		}
		if strings.TrimSpace(c.ClientKey) == "" {
			add("client_key", "required when client_auth_required is true")
			keyOK = false
		}
		if certOK && keyOK {
			if _, err := tls.X509KeyPair([]byte(c.ClientCert), []byte(c.ClientKey)); err != nil {
				add("client_key", "does not form a usable key pair with client_cert: %v", err)
			}
		}
	}

	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

func validateAddress(addr string) error {
	if strings.ContainsAny(addr, " \t\r\n") {
		return errors.New("must not contain whitespace")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("not host:port: %w", err)
	}
	if host == "" {
		return errors.New("host is empty")
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return fmt.Errorf("port %q is not a number in 1-65535", port)
	}
	return nil
}

// validateCertsPEM checks that s holds at least one PEM CERTIFICATE block,
// that every PEM block is a certificate, and that each one parses as X.509.
func validateCertsPEM(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %d has type %q, want CERTIFICATE", n+1, block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("PEM block %d is not a valid X.509 certificate: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("no PEM CERTIFICATE block found")
	}
	return nil
}
