package server

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/edge-agent/internal/testpki"
)

func TestServedCounters(t *testing.T) {
	clock := &fakeClock{t: records.EpochStart(1000, records.DefaultEpochSeconds).Add(time.Second)}
	s := NewServed(3, 2, clock.Now)
	a, b, c := Caller{MSPID: "Org1MSP", CertHash: "a"}, Caller{MSPID: "Org1MSP", CertHash: "b"}, Caller{MSPID: "Org2MSP", CertHash: "c"}
	s.Add(a, 100)
	s.Add(a, 50)
	s.Add(b, 7)
	s.Add(c, 1) // a third identity in the epoch: counted under its organisation
	if got := s.Closed(); len(got) != 0 {
		t.Fatalf("closed during the epoch: %+v", got)
	}
	want := fmt.Sprint([]EpochServed{{Epoch: 1000, Gateways: []GatewayServed{
		{MSPID: "Org1MSP", CertHash: "a", Bytes: 150, Reads: 2}, {MSPID: "Org1MSP", CertHash: "b", Bytes: 7, Reads: 1},
		{MSPID: "Org2MSP", CertHash: OtherCallers, Bytes: 1, Reads: 1},
	}}})
	if got := fmt.Sprint(s.Epochs()); got != want {
		t.Fatalf("epochs %s, want %s", got, want)
	}
	// The epoch ends: Closed reports it once.
	clock.advance(time.Minute)
	s.Add(b, 9)
	if got := fmt.Sprint(s.Closed()); got != want {
		t.Fatalf("closed %s, want %s", got, want)
	}
	if got := s.Closed(); len(got) != 0 {
		t.Fatalf("closed twice: %+v", got)
	}
	// Only the last 3 epochs are kept.
	for range 5 {
		clock.advance(time.Minute)
		s.Add(a, 1)
	}
	got := s.Epochs()
	if len(got) != 3 || got[0].Epoch != 1004 || got[2].Epoch != 1006 {
		t.Fatalf("kept %+v", got)
	}
	if closed := s.Closed(); len(closed) != 2 || closed[0].Epoch != 1004 || closed[1].Epoch != 1005 {
		t.Fatalf("closed %+v", closed)
	}
	var buf bytes.Buffer
	LogServed(slog.New(slog.NewTextHandler(&buf, nil)), s.Epochs()[2:])
	if line := buf.String(); !strings.Contains(line, "served epoch") || !strings.Contains(line, "epoch=1006") || !strings.Contains(line, "bytes=1") {
		t.Fatalf("log %q", line)
	}
}

// TestServedThroughGetShard: the bytes a GetShard sends are counted for
// the calling gateway identity, ranges included; uploads are not.
func TestServedThroughGetShard(t *testing.T) {
	e := start(t, 1<<30)
	ctx := ctxT(t)
	b := data(3<<20 + 5)
	if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(ctx, e.client, hashOf(b), 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(ctx, e.client, hashOf(b), 1000, 4096); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(e.files.ClientCert, e.files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	got := e.served.Epochs()
	want := GatewayServed{MSPID: testpki.MemberMSPID, CertHash: records.CertHash(cert.Leaf), Bytes: int64(len(b)) + 4096, Reads: 2}
	if len(got) != 1 || got[0].Epoch != records.EpochOf(e.clock.Now(), records.DefaultEpochSeconds) || len(got[0].Gateways) != 1 || got[0].Gateways[0] != want {
		t.Fatalf("served %+v, want %+v", got, want)
	}
}
