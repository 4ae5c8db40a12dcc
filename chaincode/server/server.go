package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// Environment variable names.
const (
	EnvChaincodeID     = "CHAINCODE_ID"
	EnvChaincodeIDFile = "CHAINCODE_ID_FILE"
	EnvServerAddress   = "CHAINCODE_SERVER_ADDRESS"
	EnvTLSCertFile     = "CHAINCODE_TLS_CERT_FILE"
	EnvTLSKeyFile      = "CHAINCODE_TLS_KEY_FILE"
	EnvTLSClientCAFile = "CHAINCODE_TLS_CLIENT_CA_FILE"
)

// Config is the chaincode server configuration.
type Config struct {
	// ChaincodeID is the chaincode package id, as installed on the peer
	// (for example "dct_1.0:3f2a...").
	ChaincodeID string
	// ChaincodeIDFile, when ChaincodeID is empty, names a file holding it
	// (a deployment whose package id is only known once the package is
	// built, as in the compose consortium); ReadIDFile reads it.
	ChaincodeIDFile string
	// Address is the host:port the server listens on.
	Address string
	// TLSCertFile and TLSKeyFile are the server's PEM certificate and key;
	// TLS is enabled when they are set.
	TLSCertFile string
	TLSKeyFile  string
	// TLSClientCAFile holds PEM CA certificates; when set, clients must
	// present a certificate signed by one of them.
	TLSClientCAFile string
}

// FromEnv reads the configuration with getenv (os.Getenv in production).
// Values are trimmed of surrounding space.
// EnvPeerChaincodeID is the chaincode id a peer's builder gives a chaincode
// it starts in client mode.
const EnvPeerChaincodeID = "CORE_CHAINCODE_ID_NAME"

// ClientMode reports whether the environment asks for client mode: no
// server address, and a chaincode id from the peer.
func ClientMode(getenv func(string) string) bool {
	return getenv(EnvServerAddress) == "" && getenv(EnvPeerChaincodeID) != ""
}

func FromEnv(getenv func(string) string) Config {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	return Config{
		ChaincodeID:     get(EnvChaincodeID),
		ChaincodeIDFile: get(EnvChaincodeIDFile),
		Address:         get(EnvServerAddress),
		TLSCertFile:     get(EnvTLSCertFile),
		TLSKeyFile:      get(EnvTLSKeyFile),
		TLSClientCAFile: get(EnvTLSClientCAFile),
	}
}

// ErrIDFile marks a chaincode id file that cannot be read or is empty.
var ErrIDFile = errors.New("chaincode id file")

// ReadIDFile returns c with ChaincodeID read from ChaincodeIDFile (trimmed)
// when ChaincodeID is empty and the file is set; otherwise c unchanged.
func (c Config) ReadIDFile(readFile func(string) ([]byte, error)) (Config, error) {
	if c.ChaincodeID != "" || c.ChaincodeIDFile == "" {
		return c, nil
	}
	b, err := readFile(c.ChaincodeIDFile)
	if err != nil {
		return c, fmt.Errorf("%w: %s: %w", ErrIDFile, EnvChaincodeIDFile, err)
	}
	if c.ChaincodeID = strings.TrimSpace(string(b)); c.ChaincodeID == "" {
		return c, fmt.Errorf("%w: %s: %s is empty", ErrIDFile, EnvChaincodeIDFile, c.ChaincodeIDFile)
	}
	return c, nil
}

// TLSEnabled reports whether TLS is configured.
func (c Config) TLSEnabled() bool { return c.TLSCertFile != "" || c.TLSKeyFile != "" }

// ClientAuthRequired reports whether clients must present a certificate.
func (c Config) ClientAuthRequired() bool { return c.TLSClientCAFile != "" }

// Validate checks the configuration without touching the file system. The
// error lists every problem on one line, naming the environment variables.
func (c Config) Validate() error {
	var errs []error
	if c.ChaincodeID == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvChaincodeID))
	} else if strings.ContainsFunc(c.ChaincodeID, isSpaceOrControl) {
		errs = append(errs, fmt.Errorf("%s must not contain spaces or control characters", EnvChaincodeID))
	}
	if c.Address == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvServerAddress))
	} else if err := validateAddress(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvServerAddress, err))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, fmt.Errorf("%s and %s must be set together", EnvTLSCertFile, EnvTLSKeyFile))
	}
	if c.TLSClientCAFile != "" && !c.TLSEnabled() {
		errs = append(errs, fmt.Errorf("%s requires TLS (%s and %s)", EnvTLSClientCAFile, EnvTLSCertFile, EnvTLSKeyFile))
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

func validateAddress(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port {
		return fmt.Errorf("%q must have a port in 1..65535", addr)
	}
	return nil
}

// TLSProperties reads the TLS files and checks them: the certificate must
// match the key and the client CA file must hold at least one certificate.
func (c Config) TLSProperties() (shim.TLSProperties, error) {
	if !c.TLSEnabled() {
		return shim.TLSProperties{Disabled: true}, nil
	}
	cert, err := os.ReadFile(c.TLSCertFile)
	if err != nil {
		return shim.TLSProperties{}, fmt.Errorf("%s: %w", EnvTLSCertFile, err)
	}
	key, err := os.ReadFile(c.TLSKeyFile)
	if err != nil {
		return shim.TLSProperties{}, fmt.Errorf("%s: %w", EnvTLSKeyFile, err)
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		return shim.TLSProperties{}, fmt.Errorf("%s and %s do not form a key pair: %w", EnvTLSCertFile, EnvTLSKeyFile, err)
	}
	props := shim.TLSProperties{Cert: cert, Key: key}
	if c.TLSClientCAFile != "" {
		ca, err := os.ReadFile(c.TLSClientCAFile)
		if err != nil {
			return shim.TLSProperties{}, fmt.Errorf("%s: %w", EnvTLSClientCAFile, err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(ca) {
			return shim.TLSProperties{}, fmt.Errorf("%s holds no PEM certificate", EnvTLSClientCAFile)
		}
		props.ClientCACerts = ca
	}
	return props, nil
}

// New validates the configuration, loads the TLS material and returns the
// server for cc. Start it with its Start method, which blocks.
func New(c Config, cc shim.Chaincode) (*shim.ChaincodeServer, error) {
	if cc == nil {
		return nil, errors.New("no chaincode given")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	props, err := c.TLSProperties()
	if err != nil {
		return nil, err
	}
	return &shim.ChaincodeServer{
		CCID:     c.ChaincodeID,
		Address:  c.Address,
		CC:       cc,
		TLSProps: props,
	}, nil
}
