package gatewayclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
)

// writeIdentity writes a CA and an enrollment certificate it issued as an
// MSP directory (signcerts/, keystore/ with a PKCS#8 key as cryptogen's)
// and returns the CA and the directory.
func writeIdentity(t *testing.T) (*x509.Certificate, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.org1"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "User1@org1"},
		KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	dir := t.TempDir()
	for _, d := range []string{"signcerts", "keystore"} {
		_ = os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	_ = os.WriteFile(filepath.Join(dir, "signcerts", "User1@org1-cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "keystore", "priv_sk"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
	return ca, dir
}

func TestAdminOverMutualTLS(t *testing.T) {
	ca, msp := writeIdentity(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(401)
			_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Error{Code: api.CodeUnauthenticated, Message: "no certificate"}})
			return
		}
		_ = json.NewEncoder(w).Encode(api.WhoamiResponse{Subject: r.TLS.PeerCertificates[0].Subject.CommonName, MSPID: "Org1MSP"})
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// The server's CA as the caller's --cacert.
	caFile := filepath.Join(t.TempDir(), "gw-ca.pem")
	_ = os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)

	certFile, _ := filepath.Glob(filepath.Join(msp, "signcerts", "*"))
	tests := []struct {
		name  string
		files gatewayclient.TLSFiles
		want  string // subject seen, "" = 401
	}{
		{"msp dir", gatewayclient.TLSFiles{MSPDir: msp, CACert: caFile}, "User1@org1"},
		{"cert and key", gatewayclient.TLSFiles{Cert: certFile[0], Key: filepath.Join(msp, "keystore", "priv_sk"), CACert: caFile}, "User1@org1"},
		{"anonymous", gatewayclient.TLSFiles{CACert: caFile}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := gatewayclient.TLSConfig(tt.files)
			if err != nil {
				t.Fatal(err)
			}
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
			c := gatewayclient.New("http://127.0.0.1:1", gatewayclient.WithAdmin(srv.URL, hc))
			who, err := c.Whoami(context.Background())
			if tt.want == "" {
				if !gatewayclient.IsCode(err, api.CodeUnauthenticated) {
					t.Fatalf("Whoami = %+v, %v; want UNAUTHENTICATED", who, err)
				}
				return
			}
			if err != nil || who.Subject != tt.want {
				t.Fatalf("Whoami = %+v, %v", who, err)
			}
		})
	}
	// Without the gateway's CA the server is not trusted.
	cfg, _ := gatewayclient.TLSConfig(gatewayclient.TLSFiles{MSPDir: msp})
	c := gatewayclient.New("", gatewayclient.WithAdmin(srv.URL, &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}))
	if _, err := c.Whoami(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	_, msp := writeIdentity(t)
	for _, f := range []gatewayclient.TLSFiles{
		{MSPDir: filepath.Join(msp, "missing")},
		{Cert: filepath.Join(msp, "keystore", "priv_sk")},
		{MSPDir: msp, CACert: filepath.Join(msp, "keystore", "priv_sk")},
		{MSPDir: msp, Key: filepath.Join(msp, "signcerts", "User1@org1-cert.pem")},
	} {
		if _, err := gatewayclient.TLSConfig(f); !errors.Is(err, gatewayclient.ErrTLS) {
			t.Errorf("TLSConfig(%+v) = %v, want ErrTLS", f, err)
		}
	}
}

func TestWritesNeedAdmin(t *testing.T) {
	c := gatewayclient.New("http://127.0.0.1:1")
	if _, err := c.Publish(context.Background(), "a.js", "", 1, strings.NewReader("a")); !errors.Is(err, gatewayclient.ErrNoAdmin) {
		t.Fatalf("publish without admin: %v", err)
	}
	if _, err := c.Purge(context.Background(), "a.js", "", "r"); !errors.Is(err, gatewayclient.ErrNoAdmin) {
		t.Fatalf("purge without admin: %v", err)
	}
}
