package receipts

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Identity is the gateway identity receipts are issued under: its MSP id,
// certificate and signing function (over a SHA-256 digest, ASN.1 ECDSA).
// The gateway loads it from its ledger identity; this package links no
// Fabric client, so that the operator CLI verifies receipts with it.
type Identity struct {
	MSPID string
	Cert  *x509.Certificate
	Sign  func(digest []byte) ([]byte, error)
}

// KeyIdentity is an Identity signing with an ECDSA key (tests, tools).
func KeyIdentity(mspID string, cert *x509.Certificate, key *ecdsa.PrivateKey) Identity {
	return Identity{MSPID: mspID, Cert: cert, Sign: func(d []byte) ([]byte, error) {
		return ecdsa.SignASN1(rand.Reader, key, d)
	}}
}

// Delivery is one verified delivery of shard bytes, as the content service
// reports it.
type Delivery struct {
	// Publisher is the MSP id of the organisation that published the
	// object (whose escrow pays).
	Publisher string
	Object    string
	Version   string
	Shard     int
	ShardHash string
	Node      string
	Offset    int64
	Bytes     int64
	// Request is the end-user request id.
	Request string
}

// Clock tells the time (tests drive it).
type Clock func() time.Time

// Issuer signs receipts and appends them to the log.
type Issuer struct {
	wal         *WAL
	id          Identity
	gateway     string // certificate hash
	epochLength time.Duration
	now         Clock
	nonce       string
	seq         atomic.Uint64
}

// NewIssuer issues receipts under id into wal; epochs are epochLength long
// (floor(unix time / epochLength)).
func NewIssuer(wal *WAL, id Identity, epochLength time.Duration, now Clock) (*Issuer, error) {
	if id.Cert == nil || id.Sign == nil || id.MSPID == "" {
		return nil, errors.New("receipts: identity needs an MSP id, a certificate and a signer")
	}
	if epochLength < time.Second {
		return nil, fmt.Errorf("receipts: epoch length %v is under a second", epochLength)
	}
	if now == nil {
		now = time.Now
	}
	var n [6]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, err
	}
	return &Issuer{wal: wal, id: id, gateway: records.CertHash(id.Cert), epochLength: epochLength,
		now: now, nonce: hex.EncodeToString(n[:])}, nil
}

// Epoch is the epoch at t.
func (is *Issuer) Epoch(t time.Time) int64 { return EpochAt(t, is.epochLength) }

// EpochAt is floor(unix time / length).
func EpochAt(t time.Time, length time.Duration) int64 {
	return t.UnixNano() / int64(length)
}

// Issue signs a receipt for d and appends it to the log (it is durable
// after the next group commit; Issue does not wait for it).
func (is *Issuer) Issue(_ context.Context, d Delivery) (*records.Receipt, error) {
	if err := records.ValidateMSPID("publisher", d.Publisher); err != nil {
		return nil, err
	}
	for {
		epoch := max(is.Epoch(is.now()), is.wal.Sealed()+1)
		r := &records.Receipt{
			Serial:     strconv.FormatInt(epoch, 10) + "-" + is.nonce + "-" + strconv.FormatUint(is.seq.Add(1), 10),
			GatewayMSP: is.id.MSPID, Gateway: is.gateway, Epoch: epoch,
			Object: d.Object, Version: d.Version, Shard: d.Shard, ShardHash: d.ShardHash, Node: d.Node,
			Offset: d.Offset, Bytes: d.Bytes, Request: d.Request,
		}
		if err := r.Validate(); err != nil {
			return nil, err
		}
		signing := r.SigningBytes()
		digest := sha256.Sum256(signing)
		sig, err := is.id.Sign(digest[:])
		if err != nil {
			return nil, fmt.Errorf("receipts: sign: %w", err)
		}
		r.Signature = sig
		err = is.wal.Append(epoch, encodeEntry(d.Publisher, r.Node, r.Bytes, leafData(signing, sig)))
		if errors.Is(err, errSealed) {
			continue // the epoch was sealed while signing: the next one
		}
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// A log entry: u16 publisher length, publisher, u16 node length, node,
// i64 bytes, then the receipt's LeafData (the Merkle leaf, verbatim).
func encodeEntry(publisher, node string, n int64, leaf []byte) []byte {
	b := make([]byte, 0, 12+len(publisher)+len(node)+len(leaf))
	b = binary.BigEndian.AppendUint16(b, uint16(len(publisher)))
	b = append(b, publisher...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(node)))
	b = append(b, node...)
	b = binary.BigEndian.AppendUint64(b, uint64(n))
	return append(b, leaf...)
}

// leafData is Receipt.LeafData from its SigningBytes and signature without
// encoding the receipt again: the signature is the last field of the
// canonical JSON (TestLeafDataSplice checks the two agree).
func leafData(signing, sig []byte) []byte {
	const field = `,"signature":"`
	out := make([]byte, 0, len(signing)+len(field)+base64.StdEncoding.EncodedLen(len(sig))+2)
	out = append(out, signing[:len(signing)-1]...)
	out = append(out, field...)
	out = base64.StdEncoding.AppendEncode(out, sig)
	return append(out, '"', '}')
}

type entry struct {
	publisher, node string
	bytes           int64
	leaf            []byte // aliases the payload
}

func decodeEntry(p []byte) (entry, error) {
	var e entry
	bad := errors.New("receipts: malformed log entry")
	str := func() (string, bool) {
		if len(p) < 2 {
			return "", false
		}
		n := int(binary.BigEndian.Uint16(p))
		if len(p) < 2+n {
			return "", false
		}
		s := string(p[2 : 2+n])
		p = p[2+n:]
		return s, true
	}
	var ok bool
	if e.publisher, ok = str(); !ok {
		return e, bad
	}
	if e.node, ok = str(); !ok || len(p) < 9 {
		return e, bad
	}
	e.bytes = int64(binary.BigEndian.Uint64(p))
	e.leaf = p[8:]
	return e, nil
}

// LoadCertificate reads a PEM certificate file (for VerifyReceipt).
func LoadCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return records.ParseCertificatePEM(string(b))
}
