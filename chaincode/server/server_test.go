package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

type nopChaincode struct{}

func (nopChaincode) Init(shim.ChaincodeStubInterface) *peer.Response   { return shim.Success(nil) }
func (nopChaincode) Invoke(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		EnvChaincodeID:     " dct_1.0:abc ",
		EnvServerAddress:   "0.0.0.0:9999",
		EnvTLSCertFile:     "/c",
		EnvTLSKeyFile:      "/k",
		EnvTLSClientCAFile: "/ca",
	}
	got := FromEnv(func(k string) string { return env[k] })
	want := Config{ChaincodeID: "dct_1.0:abc", Address: "0.0.0.0:9999", TLSCertFile: "/c", TLSKeyFile: "/k", TLSClientCAFile: "/ca"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !got.TLSEnabled() || !got.ClientAuthRequired() {
		t.Error("TLS flags")
	}
}

func TestReadIDFile(t *testing.T) {
	files := map[string]string{"/id": " dct_1.0:abc\n", "/empty": " \n"}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return []byte(b), nil
		}
		return nil, os.ErrNotExist
	}
	tests := []struct {
		name    string
		in      Config
		wantID  string
		wantErr bool
	}{
		{"id wins over file", Config{ChaincodeID: "x:1", ChaincodeIDFile: "/id"}, "x:1", false},
		{"no file", Config{}, "", false},
		{"from file, trimmed", Config{ChaincodeIDFile: "/id"}, "dct_1.0:abc", false},
		{"missing file", Config{ChaincodeIDFile: "/nope"}, "", true},
		{"empty file", Config{ChaincodeIDFile: "/empty"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.ReadIDFile(read)
			if tt.wantErr {
				if !errors.Is(err, ErrIDFile) {
					t.Fatalf("err = %v, want ErrIDFile", err)
				}
				return
			}
			if err != nil || got.ChaincodeID != tt.wantID {
				t.Fatalf("got %q, %v; want %q", got.ChaincodeID, err, tt.wantID)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	base := Config{ChaincodeID: "dct_1.0:abc", Address: ":9999"}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{"minimal", func(*Config) {}, nil},
		{"host and port", func(c *Config) { c.Address = "dct-chaincode:7052" }, nil},
		{"ipv6", func(c *Config) { c.Address = "[::]:7052" }, nil},
		{"tls", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = "/c", "/k" }, nil},
		{"mtls", func(c *Config) { c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile = "/c", "/k", "/ca" }, nil},
		{"no id", func(c *Config) { c.ChaincodeID = "" }, []string{"CHAINCODE_ID is required"}},
		{"id with space", func(c *Config) { c.ChaincodeID = "dct 1" }, []string{"CHAINCODE_ID must not contain spaces"}},
		{"no address", func(c *Config) { c.Address = "" }, []string{"CHAINCODE_SERVER_ADDRESS is required"}},
		{"address without port", func(c *Config) { c.Address = "localhost" }, []string{"CHAINCODE_SERVER_ADDRESS", "not host:port"}},
		{"port zero", func(c *Config) { c.Address = "localhost:0" }, []string{"1..65535"}},
		{"port too big", func(c *Config) { c.Address = "localhost:70000" }, []string{"1..65535"}},
		{"port name", func(c *Config) { c.Address = "localhost:http" }, []string{"1..65535"}},
		{"cert without key", func(c *Config) { c.TLSCertFile = "/c" }, []string{"CHAINCODE_TLS_CERT_FILE and CHAINCODE_TLS_KEY_FILE must be set together"}},
		{"key without cert", func(c *Config) { c.TLSKeyFile = "/k" }, []string{"must be set together"}},
		{"client ca without tls", func(c *Config) { c.TLSClientCAFile = "/ca" }, []string{"CHAINCODE_TLS_CLIENT_CA_FILE requires TLS"}},
		{"everything wrong", func(c *Config) { *c = Config{TLSKeyFile: "/k"} }, []string{"CHAINCODE_ID is required", "CHAINCODE_SERVER_ADDRESS is required", "set together"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// writePair writes a self-signed certificate and its key, returning the
// paths.
func writePair(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir, "server")
	otherCert, _ := writePair(t, dir, "other")
	caCert, _ := writePair(t, dir, "ca")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := Config{ChaincodeID: "dct_1.0:abc", Address: "127.0.0.1:7052"}
	tests := []struct {
		name       string
		mutate     func(*Config)
		want       string
		tls, mutls bool
	}{
		{"plain", func(*Config) {}, "", false, false},
		{"tls", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = cert, key }, "", true, false},
		{"mtls", func(c *Config) { c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile = cert, key, caCert }, "", true, true},
		{"invalid config", func(c *Config) { c.ChaincodeID = "" }, "CHAINCODE_ID is required", false, false},
		{"missing cert", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = filepath.Join(dir, "nope"), key }, "CHAINCODE_TLS_CERT_FILE", false, false},
		{"missing key", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = cert, filepath.Join(dir, "nope") }, "CHAINCODE_TLS_KEY_FILE", false, false},
		{"mismatched pair", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = otherCert, key }, "do not form a key pair", false, false},
		{"missing ca", func(c *Config) {
			c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile = cert, key, filepath.Join(dir, "nope")
		}, "CHAINCODE_TLS_CLIENT_CA_FILE", false, false},
		{"garbage ca", func(c *Config) { c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile = cert, key, garbage }, "holds no PEM certificate", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mutate(&c)
			srv, err := New(c, nopChaincode{})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if srv.CCID != c.ChaincodeID || srv.Address != c.Address || srv.CC == nil {
				t.Errorf("server %+v", srv)
			}
			if srv.TLSProps.Disabled == tt.tls {
				t.Errorf("TLS disabled = %v", srv.TLSProps.Disabled)
			}
			if (len(srv.TLSProps.ClientCACerts) > 0) != tt.mutls {
				t.Errorf("client CA set = %v", len(srv.TLSProps.ClientCACerts) > 0)
			}
		})
	}
	if _, err := New(base, nil); err == nil {
		t.Error("New without chaincode accepted")
	}
}

func TestClientMode(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"server", map[string]string{EnvServerAddress: "0.0.0.0:9999", EnvChaincodeID: "cc:1"}, false},
		{"peer started it", map[string]string{EnvPeerChaincodeID: "cc:1"}, true},
		{"both: server wins", map[string]string{EnvServerAddress: "0.0.0.0:9999", EnvPeerChaincodeID: "cc:1"}, false},
		{"neither", map[string]string{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClientMode(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("ClientMode = %v, want %v", got, tc.want)
			}
		})
	}
}
