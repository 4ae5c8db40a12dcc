package records

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, pub, priv any) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sealGroup seals receipts (naming cert's gateway) with sign and returns
// each receipt with its seal and group proof.
func sealGroup(t *testing.T, cert *x509.Certificate, rs []Receipt, sign func(*Seal) []byte) []SealedReceipt {
	t.Helper()
	var leaves [][]byte
	for i := range rs {
		rs[i].Gateway = CertHash(cert)
		leaves = append(leaves, rs[i].LeafData())
	}
	s := Seal{GatewayMSP: rs[0].GatewayMSP, Gateway: CertHash(cert), Epoch: rs[0].Epoch, Group: 3,
		Root: hex.EncodeToString(mth(leaves)), Size: int64(len(rs))}
	s.Signature = sign(&s)
	out := make([]SealedReceipt, len(rs))
	for i := range rs {
		out[i] = SealedReceipt{Receipt: rs[i], Seal: s, GroupIndex: int64(i), GroupProof: path(i, leaves)}
	}
	return out
}

func receiptsOf(n int) []Receipt {
	var rs []Receipt
	for i := range n {
		rs = append(rs, Receipt{Serial: "7-x-" + string(rune('a'+i)), GatewayMSP: "Org1MSP", Epoch: 7, Object: "portal/app.js",
			Version: "1", Shard: i % 6, ShardHash: hexOf("shard"), Node: "agent0-org1", Bytes: int64(100 + i), Request: "r1"})
	}
	return rs
}

func TestSealedReceipt(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := selfSigned(t, &key.PublicKey, key)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherCert := selfSigned(t, &other.PublicKey, other)
	signWith := func(k *ecdsa.PrivateKey) func(*Seal) []byte {
		return func(s *Seal) []byte {
			sig, err := ecdsa.SignASN1(rand.Reader, k, s.SealDigest())
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
	}
	group := sealGroup(t, cert, receiptsOf(5), signWith(key))
	for i := range group {
		if err := group[i].Verify(cert); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
	}
	if !strings.HasPrefix(string(group[0].Seal.SigningBytes()), sealDomain+`{"gatewayMsp":"Org1MSP",`) {
		t.Fatalf("signing bytes %s", group[0].Seal.SigningBytes())
	}
	for _, c := range []struct {
		name, want string
		cert       *x509.Certificate
		mutate     func(*SealedReceipt)
	}{
		{"receipt changed after sealing", "not in the group", cert, func(s *SealedReceipt) { s.Receipt.Bytes++ }},
		{"wrong group index", "not in the group", cert, func(s *SealedReceipt) { s.GroupIndex = (s.GroupIndex + 1) % 5 }},
		{"wrong group proof", "not in the group", cert, func(s *SealedReceipt) { s.GroupProof[0] = LeafHash([]byte("x")) }},
		{"group proof too long", "at most", cert, func(s *SealedReceipt) { s.GroupProof = make([][]byte, MaxGroupProofLength+1) }},
		{"forged root", "signature is not", cert, func(s *SealedReceipt) {
			// the forger rebuilds the group around a changed receipt, keeps the signature
			rs := []Receipt{s.Receipt}
			rs[0].Bytes = 1 << 30
			f := sealGroup(t, cert, rs, func(*Seal) []byte { return s.Seal.Signature })[0]
			*s = f
		}},
		{"forged size", "", cert, func(s *SealedReceipt) { s.Seal.Size++ }},
		{"unsigned", "not signed", cert, func(s *SealedReceipt) { s.Seal.Signature = nil }},
		{"another epoch", "does not name", cert, func(s *SealedReceipt) { s.Seal.Epoch++ }},
		{"another gateway's certificate", "names certificate", otherCert, func(*SealedReceipt) {}},
		{"group too large", "1..4096", cert, func(s *SealedReceipt) { s.Seal.Size = MaxGroupReceipts + 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := group[2]
			s.GroupProof = append([][]byte(nil), s.GroupProof...)
			c.mutate(&s)
			err := s.Verify(c.cert)
			if CodeOf(err) != CodeInvalid || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want INVALID_ARGUMENT with %q", err, c.want)
			}
		})
	}
	// Sealed by another key, naming this gateway.
	forged := sealGroup(t, cert, receiptsOf(3), signWith(other))
	if err := forged[1].Verify(cert); err == nil || !strings.Contains(err.Error(), "signature is not the committing gateway's") {
		t.Fatalf("a seal by another key: %v", err)
	}

	// Ed25519 keys verify too.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	edCert := selfSigned(t, pub, priv)
	ed := sealGroup(t, edCert, receiptsOf(2), func(s *Seal) []byte { return ed25519.Sign(priv, s.SigningBytes()) })
	if err := ed[0].Verify(edCert); err != nil {
		t.Fatal(err)
	}
	ed[0].Seal.Group++
	if err := ed[0].Verify(edCert); err == nil {
		t.Fatal("a changed Ed25519 seal verifies")
	}
}

func TestDecodeSamplesBounds(t *testing.T) {
	if _, err := DecodeSamples([]byte(`[{"index":0,"receipt":{},"seal":{},"groupIndex":0,"groupProof":[],"proof":[]}]`)); err != nil {
		t.Fatal(err)
	}
	long := `[{"index":0,"groupProof":[` + strings.Repeat(`"AA==",`, MaxGroupProofLength) + `"AA=="]}]`
	if _, err := DecodeSamples([]byte(long)); CodeOf(err) != CodeInvalid {
		t.Fatalf("a long group proof: %v", err)
	}
	if _, err := DecodeSamples([]byte(`[{"index":0,"receipt":{"signature":"AA=="}}]`)); CodeOf(err) != CodeInvalid {
		t.Fatalf("a receipt with a signature field: %v", err)
	}
}
