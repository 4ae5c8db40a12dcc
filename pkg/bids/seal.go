package bids

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
)

// MinKeyBytes is the shortest organisation bid key accepted.
const MinKeyBytes = 32

// ErrKey reports a missing or short bid key; ErrOpening an opening that
// does not decrypt or does not match its commitment.
var (
	ErrKey     = errors.New("bid key")
	ErrOpening = errors.New("bid opening")
)

// Key is an organisation's bid key: its agents and gateways share it, no
// other organisation has it.
type Key []byte

// Validate checks the key's length.
func (k Key) Validate() error {
	if len(k) < MinKeyBytes {
		return fmt.Errorf("%w: at least %d bytes, got %d", ErrKey, MinKeyBytes, len(k))
	}
	return nil
}

// String never shows the key.
func (k Key) String() string {
	if len(k) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d-byte key", len(k))
}

// Sealed is a bid ready for auction:Bid, and its opening for auction:Reveal.
type Sealed struct {
	Input records.BidInput
	Terms records.BidTerms
	Salt  string
}

// Reveal is the reveal of s in auction.
func (s Sealed) Reveal(auction string) records.RevealInput {
	return records.RevealInput{Auction: auction, Terms: s.Terms, Salt: s.Salt}
}

type opening struct {
	Terms records.BidTerms `json:"terms"`
	Salt  string           `json:"salt"`
}

// Seal commits to terms under a fresh salt; with a key, the opening is
// encrypted (AES-256-GCM, key derived from k, the node as associated data)
// into the input, for the organisation's gateways.
func Seal(terms records.BidTerms, k Key) (Sealed, error) {
	if err := terms.Validate(); err != nil {
		return Sealed{}, err
	}
	salt := make([]byte, records.BidSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return Sealed{}, err
	}
	s := Sealed{Terms: terms, Salt: hex.EncodeToString(salt)}
	h, err := records.BidHash(terms, s.Salt)
	if err != nil {
		return Sealed{}, err
	}
	s.Input = records.BidInput{Node: terms.Node, Hash: h}
	if len(k) == 0 {
		return s, nil
	}
	aead, err := k.aead()
	if err != nil {
		return Sealed{}, err
	}
	plain, err := json.Marshal(opening{Terms: terms, Salt: s.Salt})
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, err
	}
	s.Input.Opening = base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(terms.Node)))
	return s, nil
}

// Open decrypts the opening of a sealed bid with k and checks it against
// the bid's commitment.
func Open(b *records.SealedBid, k Key) (Sealed, error) {
	if b == nil || b.Opening == "" {
		return Sealed{}, fmt.Errorf("%w: the bid carries no opening", ErrOpening)
	}
	aead, err := k.aead()
	if err != nil {
		return Sealed{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(b.Opening)
	if err != nil || len(raw) < aead.NonceSize() {
		return Sealed{}, fmt.Errorf("%w: not base64 or too short", ErrOpening)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(b.Node))
	if err != nil {
		return Sealed{}, fmt.Errorf("%w: does not decrypt with this key", ErrOpening)
	}
	var o opening
	if err := json.Unmarshal(plain, &o); err != nil {
		return Sealed{}, fmt.Errorf("%w: %v", ErrOpening, err)
	}
	h, err := records.BidHash(o.Terms, o.Salt)
	if err != nil || h != b.Hash || o.Terms.Node != b.Node {
		return Sealed{}, fmt.Errorf("%w: does not match the commitment of %s", ErrOpening, b.Node)
	}
	return Sealed{Input: records.BidInput{Node: b.Node, Hash: b.Hash, Opening: b.Opening}, Terms: o.Terms, Salt: o.Salt}, nil
}

func (k Key) aead() (cipher.AEAD, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte("dct-bid-opening-v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
