package receipts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"
)

// testIdentity is the identity of the test binary's gateway: the logs
// openTestWAL opens seal with it and newIssuer issues under it.
func testIdentity(t testing.TB) Identity {
	t.Helper()
	shared.once.Do(func() { shared.id, shared.err = newIdentity() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.id
}

var shared struct {
	once sync.Once
	id   Identity
	err  error
}

// otherIdentity is another gateway's identity.
func otherIdentity(t testing.TB) Identity {
	t.Helper()
	id, err := newIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newIdentity() (Identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Identity{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Identity{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Identity{}, err
	}
	return KeyIdentity("Org1MSP", cert, key), nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// manualTicker never ticks: flushes happen on FlushRecords, Flush or Seal.
func manualTicker(time.Duration) (<-chan time.Time, func()) { return make(chan time.Time), func() {} }

// openTestWAL opens the log in dir, sealed by testIdentity, flushed only
// when told.
func openTestWAL(t testing.TB, dir string) *WAL {
	t.Helper()
	w, err := OpenWAL(dir, WALOptions{Sealer: testIdentity(t), Ticker: manualTicker, FlushRecords: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

const hashA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func delivery(i int) Delivery {
	return Delivery{Publisher: fmt.Sprintf("Org%dMSP", 1+i%2), Object: "site/index.html", Version: "v1",
		Shard: i % 6, ShardHash: hashA, Node: fmt.Sprintf("node-%d", i%3), Offset: 0, Bytes: int64(100 + i), Request: "req-1"}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// loadPEMIdentity reads a certificate and a PKCS #8 ECDSA key from PEM
// files (the crash test's child process).
func loadPEMIdentity(mspID, certPath, keyPath string) (Identity, error) {
	read := func(path, typ string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		block, _ := pem.Decode(b)
		if block == nil || block.Type != typ {
			return nil, fmt.Errorf("%s: no %s PEM block", path, typ)
		}
		return block.Bytes, nil
	}
	der, err := read(certPath, "CERTIFICATE")
	if err != nil {
		return Identity{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Identity{}, err
	}
	kder, err := read(keyPath, "PRIVATE KEY")
	if err != nil {
		return Identity{}, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kder)
	if err != nil {
		return Identity{}, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return Identity{}, fmt.Errorf("%s: not an ECDSA key", keyPath)
	}
	return KeyIdentity(mspID, cert, key), nil
}
