package content_test

import (
	"bytes"
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

// testConfig is a configuration with small chunks and units, so that small
// payloads span several stripes and segments.
func testConfig(mutate func(*content.Config)) content.Config {
	cfg := content.DefaultConfig()
	cfg.MasterKeys = [][]byte{bytes.Repeat([]byte{7}, 32)}
	cfg.ManifestTTL = 0
	cfg.ChunkSize = 1024
	cfg.MaxUnit = 4096
	cfg.SegmentBytes = 10000
	cfg.CacheMaxObject = 20000
	if mutate != nil {
		mutate(&cfg)
	}
	return cfg
}

func newTestService(t *testing.T, nodes int, mutate func(*content.Config), opts ...content.Option) (*content.Service, *contenttest.Ledger, *contenttest.Agents) {
	t.Helper()
	l := contenttest.NewLedger("Org1MSP", nodes)
	a := contenttest.NewAgents(l, 1<<30)
	s, err := content.New(testConfig(mutate), l, a, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, l, a
}

func payload(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

// publishWith publishes body through s and returns the manifest.
func publishWith(t *testing.T, s *content.Service, name string, body []byte) *records.Manifest {
	t.Helper()
	pub, err := s.Publish(context.Background(), name, "", int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return pub.Manifest
}

func readBack(t *testing.T, s *content.Service, m *records.Manifest, want []byte) time.Duration {
	t.Helper()
	start := time.Now()
	got, err := s.Read(context.Background(), m, 0, m.Size)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %s: %v", m, err)
	}
	return time.Since(start)
}
