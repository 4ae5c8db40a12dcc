package receipts

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Identity is the gateway identity receipts are issued under: its MSP id,
// certificate and signing function (over a SHA-256 digest, ASN.1 ECDSA).
// It signs the seal of each group commit of the log (WALOptions.Sealer),
// not each receipt. The gateway loads it from its ledger identity
// (ledger.ReceiptIdentity); this package links no Fabric client, so that
// the operator CLI verifies receipts with it.
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

// Issuer issues receipts into the log; the log's flusher seals them in
// groups.
type Issuer struct {
	wal         *WAL
	id          Identity
	gateway     string // certificate hash
	epochLength time.Duration
	now         Clock
	nonce       string
	seq         atomic.Uint64

	// checked holds the deliveries' fixed parts (publisher, object,
	// version, shard, shard hash, node) whose receipts passed
	// records.Receipt.Validate: the read path then checks only what
	// changes per request (request id, byte range) without the regular
	// expressions. Bounded: cleared when it holds maxChecked.
	mu      sync.RWMutex
	checked map[checkKey]struct{}
}

// checkKey is the fixed part of a delivery.
type checkKey struct {
	publisher, object, version, shardHash, node string
	shard                                       int
}

const maxChecked = 1 << 14

// NewIssuer issues receipts under id into wal, whose sealer must be id;
// epochs are epochLength long (floor(unix time / epochLength)).
func NewIssuer(wal *WAL, id Identity, epochLength time.Duration, now Clock) (*Issuer, error) {
	if id.Cert == nil || id.Sign == nil || id.MSPID == "" {
		return nil, errors.New("receipts: identity needs an MSP id, a certificate and a signer")
	}
	gateway := records.CertHash(id.Cert)
	if wal.gatewayMSP != id.MSPID || wal.gateway != gateway {
		return nil, fmt.Errorf("receipts: the log seals as %s/%s, the issuer is %s/%s", wal.gatewayMSP, wal.gateway, id.MSPID, gateway)
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
	return &Issuer{wal: wal, id: id, gateway: gateway, epochLength: epochLength,
		now: now, nonce: hex.EncodeToString(n[:]), checked: map[checkKey]struct{}{}}, nil
}

// Epoch is the epoch at t.
func (is *Issuer) Epoch(t time.Time) int64 { return EpochAt(t, is.epochLength) }

// EpochAt is floor(unix time / length).
func EpochAt(t time.Time, length time.Duration) int64 {
	return t.UnixNano() / int64(length)
}

// Issue makes a receipt for d and appends it to the log. It signs nothing
// and does not wait for the disk: the receipt counts once the next group
// commit has sealed and written its group (within --receipts-flush).
func (is *Issuer) Issue(_ context.Context, d Delivery) (*records.Receipt, error) {
	for {
		epoch := max(is.Epoch(is.now()), is.wal.Closed()+1)
		r := &records.Receipt{
			Serial:     strconv.FormatInt(epoch, 10) + "-" + is.nonce + "-" + strconv.FormatUint(is.seq.Add(1), 10),
			GatewayMSP: is.id.MSPID, Gateway: is.gateway, Epoch: epoch,
			Object: d.Object, Version: d.Version, Shard: d.Shard, ShardHash: d.ShardHash, Node: d.Node,
			Offset: d.Offset, Bytes: d.Bytes, Request: d.Request,
		}
		if err := is.validate(d.Publisher, r); err != nil {
			return nil, err
		}
		leaf := r.LeafData()
		err := is.wal.Append(epoch, encodeEntry(d.Publisher, r.Node, r.Bytes, leaf), leafHash(leaf))
		if errors.Is(err, errEpochClosed) {
			continue // the epoch was closed meanwhile: the next one
		}
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// validate is records.Receipt.Validate of r and records.ValidateMSPID of
// its publisher, done in full once per fixed part (see Issuer.checked).
func (is *Issuer) validate(publisher string, r *records.Receipt) error {
	key := checkKey{publisher: publisher, object: r.Object, version: r.Version, shardHash: r.ShardHash, node: r.Node, shard: r.Shard}
	is.mu.RLock()
	_, ok := is.checked[key]
	is.mu.RUnlock()
	// The serial (epoch, nonce, counter) and the gateway's names are
	// the issuer's own; the rest is checked here as Validate does.
	if ok && r.Epoch >= 0 && requestIDValid(r.Request) && r.Offset >= 0 && r.Bytes > 0 && r.Offset+r.Bytes <= records.MaxShardBytes {
		return nil
	}
	if err := records.ValidateMSPID("publisher", publisher); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	is.mu.Lock()
	if len(is.checked) >= maxChecked {
		clear(is.checked)
	}
	is.checked[key] = struct{}{}
	is.mu.Unlock()
	return nil
}

// requestIDValid reports whether id matches ^[A-Za-z0-9._-]{1,64}$, the
// receipt's request id rule.
func requestIDValid(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// leafHash is the RFC 6962 leaf hash of leaf data (records.LeafHash).
func leafHash(leaf []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	return h.Sum(make([]byte, 0, sha256.Size))
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
