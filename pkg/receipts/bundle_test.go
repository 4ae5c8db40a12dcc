package receipts

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// TestBundle: a submitted batch's receipts come out of the log as bundles
// that verify offline (also after a JSON round trip); a tampered receipt,
// proof, root or certificate does not; a batch the log did not submit, a
// leaf outside it and a log that does not rebuild the ledger's root are
// errors.
func TestBundle(t *testing.T) {
	w := openTestWAL(t, t.TempDir())
	clk := &fakeClock{t: t0}
	is, id := newIssuer(t, w, clk)
	for i := range 13 {
		if _, err := is.Issue(context.Background(), delivery(i)); err != nil {
			t.Fatal(err)
		}
	}
	l := &fakeLedger{}
	clk.Set(t0.Add(71 * time.Second))
	sub := &Submitter{WAL: w, Ledger: l, EpochLength: time.Minute, Grace: 10 * time.Second, Now: clk.Now}
	if err := sub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	var batch *records.Batch
	for bid, in := range l.batches {
		batch = &records.Batch{ID: bid, GatewayMSP: "Org1MSP", Epoch: in.Epoch, Root: in.Root, Size: in.Size, Status: records.BatchAccepted}
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw}))
	for i := range batch.Size {
		b, err := NewBundle(w, batch, i, certPEM)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var back Bundle
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Verify(); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	good, err := NewBundle(w, batch, 5, certPEM)
	if err != nil {
		t.Fatal(err)
	}
	other := otherIdentity(t)
	for name, tamper := range map[string]func(b *Bundle){
		"bytes": func(b *Bundle) { b.Receipt.Bytes++ },
		"index": func(b *Bundle) { b.Index = 6 },
		"proof": func(b *Bundle) { b.Proof[0][0] ^= 1 },
		"root":  func(b *Bundle) { b.Root = hex.EncodeToString(records.LeafHash([]byte("other"))) },
		"size":  func(b *Bundle) { b.Size = b.Index + 1 }, // (a size with the same proof shape proves the same root)
		"certificate": func(b *Bundle) {
			b.GatewayCert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Cert.Raw}))
		},
		"not PEM": func(b *Bundle) { b.GatewayCert = "x" },
	} {
		raw, _ := json.Marshal(good)
		var b Bundle
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		tamper(&b)
		if err := b.Verify(); !errors.Is(err, ErrBundle) {
			t.Errorf("%s tampered: %v, want ErrBundle", name, err)
		}
	}
	if _, err := NewBundle(w, &records.Batch{ID: "nope", Size: 1}, 0, certPEM); !errors.Is(err, ErrNotInLog) {
		t.Errorf("unknown batch: %v", err)
	}
	if _, err := NewBundle(w, batch, batch.Size, certPEM); !errors.Is(err, ErrNotInLog) {
		t.Errorf("leaf outside: %v", err)
	}
	forged := *batch
	forged.Root = hex.EncodeToString(records.LeafHash([]byte("forged")))
	if _, err := NewBundle(w, &forged, 0, certPEM); !errors.Is(err, ErrBundle) {
		t.Errorf("log that does not rebuild the root: %v", err)
	}
}
