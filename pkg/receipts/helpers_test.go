package receipts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"
)

func testIdentity(t testing.TB) Identity {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return KeyIdentity("Org1MSP", cert, key)
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

func openTestWAL(t testing.TB, dir string) *WAL {
	t.Helper()
	w, err := OpenWAL(dir, WALOptions{Ticker: manualTicker, FlushRecords: 1 << 30})
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
