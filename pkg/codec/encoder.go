package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// batchTarget is roughly how much ciphertext the encoder gathers before it
// computes parity and hands shard bytes to the sink.
const batchTarget = 4 << 20

// parallelMin is the work size from which hashing and decryption are spread
// over goroutines.
const parallelMin = 256 << 10

// Sink receives the encoded shards in order: blocks[i] holds shard i's bytes
// starting at shard offset off, and every block has the same length. The
// blocks are reused once Sink returns.
type Sink func(off int64, blocks [][]byte) error

// Result describes an encoded object.
type Result struct {
	// Size is the plaintext size.
	Size int64
	// SHA256 and SHA384 are digests of the plaintext.
	SHA256 [sha256.Size]byte
	SHA384 [sha512.Size384]byte
	// ShardHashes[i] is the SHA-256 of shard i.
	ShardHashes []Hash
}

// SHA256Hex is the plaintext SHA-256 as lowercase hex.
func (r *Result) SHA256Hex() string { return hex.EncodeToString(r.SHA256[:]) }

// Integrity is the Subresource Integrity value ("sha384-…").
func (r *Result) Integrity() string {
	return "sha384-" + base64.StdEncoding.EncodeToString(r.SHA384[:])
}

// ShardHashHex is shard i's SHA-256 as lowercase hex.
func (r *Result) ShardHashHex(i int) string { return r.ShardHashes[i].String() }

// Encoder encrypts and erasure-codes one object written to it.
type Encoder struct {
	l        Layout
	aead     cipher.AEAD
	rs       reedsolomon.Encoder
	sink     Sink
	sha256   hash.Hash
	sha384   hash.Hash
	shardH   []hash.Hash
	chunk    []byte // plaintext of the chunk being filled
	chunkIdx int64
	sealed   []byte // scratch for one sealed chunk
	batch    []byte // ciphertext waiting for parity
	shards   [][]byte
	pad      *rand.ChaCha8 // fills stripe padding: see padSource
	shardOff int64
	written  int64
	err      error
	done     bool
}

// NewEncoder returns an encoder of an object with layout l under key; the
// encoded shards go to sink as they are produced.
func NewEncoder(l Layout, key Key, sink Sink) (*Encoder, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, fmt.Errorf("%w: nil sink", ErrInvalid)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	rs, err := newRS(l)
	if err != nil {
		return nil, err
	}
	stripes := max(1, min(l.Stripes(), batchTarget/l.StripeSize()))
	e := &Encoder{
		l: l, aead: aead, rs: rs, sink: sink,
		sha256: sha256.New(), sha384: sha512.New384(),
		chunk:  make([]byte, 0, min(l.ChunkSize, max(l.Size, 1))),
		sealed: make([]byte, 0, min(l.ChunkSize, max(l.Size, 1))+TagSize),
		batch:  make([]byte, 0, stripes*l.StripeSize()),
		shards: make([][]byte, l.K+l.M),
		pad:    padSource(key),
	}
	for i := range e.shards {
		e.shards[i] = make([]byte, stripes*l.Unit)
		e.shardH = append(e.shardH, sha256.New())
	}
	return e, nil
}

func newAEAD(key Key) (cipher.AEAD, error) {
	if !key.set {
		return nil, fmt.Errorf("%w: key not derived", ErrInvalid)
	}
	block, err := aes.NewCipher(key.b[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return cipher.NewGCM(block)
}

// rsByShape holds one Reed-Solomon coder per (K, M): building one (the
// coding matrix, ~25 µs) would otherwise cost as much per 100 KiB read as
// its AES-GCM open, and a shared coder keeps the inverted matrices of
// earlier reconstructions. klauspost/reedsolomon's coders are safe for
// concurrent use (their inversion cache is locked, their scratch pooled).
// There are at most MaxShards² shapes.
var rsByShape sync.Map // [2]int → reedsolomon.Encoder

func newRS(l Layout) (reedsolomon.Encoder, error) {
	if l.M == 0 {
		return nil, nil
	}
	shape := [2]int{l.K, l.M}
	if rs, ok := rsByShape.Load(shape); ok {
		return rs.(reedsolomon.Encoder), nil
	}
	rs, err := reedsolomon.New(l.K, l.M)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	got, _ := rsByShape.LoadOrStore(shape, rs)
	return got.(reedsolomon.Encoder), nil
}

// nonce and aad bind a chunk to its index and to the object size.
func nonce(c int64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], uint64(c))
	return n[:]
}

func aad(size, c int64) []byte {
	var a [20]byte
	copy(a[:4], "dct1")
	binary.BigEndian.PutUint64(a[4:], uint64(size))
	binary.BigEndian.PutUint64(a[12:], uint64(c))
	return a[:]
}

// Write takes the next plaintext bytes; more than the layout's Size is an
// error.
func (e *Encoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.done {
		return 0, fmt.Errorf("%w: write after close", ErrInvalid)
	}
	if int64(len(p)) > e.l.Size-e.written {
		e.err = fmt.Errorf("%w: more than the %d bytes declared", ErrInvalid, e.l.Size)
		return 0, e.err
	}
	// The plaintext digests run beside sealing and parity: on large writes
	// they are half of the encoder's work.
	var wg sync.WaitGroup
	if len(p) >= parallelMin {
		wg.Add(1)
		go func(p []byte) {
			defer wg.Done()
			e.sha256.Write(p)
			e.sha384.Write(p)
		}(p)
	} else {
		e.sha256.Write(p)
		e.sha384.Write(p)
	}
	defer wg.Wait()
	n := len(p)
	for len(p) > 0 {
		want := e.l.chunkPlain(e.chunkIdx) - int64(len(e.chunk))
		take := min(int64(len(p)), want)
		e.chunk = append(e.chunk, p[:take]...)
		p = p[take:]
		e.written += take
		if int64(len(e.chunk)) == e.l.chunkPlain(e.chunkIdx) {
			if err := e.sealChunk(); err != nil {
				e.err = err
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// sealChunk seals the buffered chunk into the batch, flushing full batches.
func (e *Encoder) sealChunk() error {
	e.sealed = e.aead.Seal(e.sealed[:0], nonce(e.chunkIdx), e.chunk, aad(e.l.Size, e.chunkIdx))
	e.chunk = e.chunk[:0]
	e.chunkIdx++
	ct := e.sealed
	for len(ct) > 0 {
		room := cap(e.batch) - len(e.batch)
		take := min(room, len(ct))
		e.batch = append(e.batch, ct[:take]...)
		ct = ct[take:]
		if len(e.batch) == cap(e.batch) {
			if err := e.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// padSource is the stream the encoder pads the last stripe with: bytes
// that differ from object to object (seeded from a one-way hash of the
// object key), not zeros. With zeros, the data shards of small objects that
// hold only padding were byte-identical across objects, so they had the
// same hash, and agents, which store and delete shards by hash, shared one
// file among objects: deleting one object's shards (a hard purge) removed
// another's. Decoding never reads the padding (the layout knows the
// ciphertext length), and parity covers whatever the padding is.
func padSource(key Key) *rand.ChaCha8 {
	h := sha256.New()
	h.Write([]byte("dct stripe padding v1"))
	h.Write(key.b[:])
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	return rand.NewChaCha8(seed)
}

// flush stripes the batch over the data shards (padding the last stripe
// from padSource), computes parity and hands the blocks to the sink.
func (e *Encoder) flush() error {
	if len(e.batch) == 0 {
		return nil
	}
	l := e.l
	stripeSize := l.StripeSize()
	stripes := ceilDiv(int64(len(e.batch)), stripeSize)
	unit := l.Unit
	blockLen := stripes * unit
	for s := int64(0); s < stripes; s++ {
		for i := 0; i < l.K; i++ {
			dst := e.shards[i][s*unit : (s+1)*unit]
			lo := s*stripeSize + int64(i)*unit
			n := 0
			if lo < int64(len(e.batch)) {
				n = copy(dst, e.batch[lo:min(lo+unit, int64(len(e.batch)))])
			}
			if n < len(dst) {
				e.pad.Read(dst[n:])
			}
		}
	}
	blocks := make([][]byte, len(e.shards))
	for i := range e.shards {
		blocks[i] = e.shards[i][:blockLen]
	}
	if e.rs != nil {
		if err := e.rs.Encode(blocks); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if blockLen*int64(len(blocks)) >= parallelMin {
		var wg sync.WaitGroup
		for i, b := range blocks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.shardH[i].Write(b)
			}()
		}
		wg.Wait()
	} else {
		for i, b := range blocks {
			e.shardH[i].Write(b)
		}
	}
	if err := e.sink(e.shardOff, blocks); err != nil {
		return err
	}
	e.shardOff += blockLen
	e.batch = e.batch[:0]
	return nil
}

// Close seals the last chunk, flushes the last stripes and returns the
// digests. It fails when fewer than Size bytes were written.
func (e *Encoder) Close() (*Result, error) {
	if e.err != nil {
		return nil, e.err
	}
	if e.done {
		return nil, fmt.Errorf("%w: closed twice", ErrInvalid)
	}
	e.done = true
	if e.written != e.l.Size {
		e.err = fmt.Errorf("%w: got %d of the %d bytes declared", ErrInvalid, e.written, e.l.Size)
		return nil, e.err
	}
	if e.l.Size == 0 {
		if err := e.sealChunk(); err != nil {
			e.err = err
			return nil, err
		}
	}
	if err := e.flush(); err != nil {
		e.err = err
		return nil, err
	}
	if e.shardOff != e.l.ShardSize() {
		e.err = fmt.Errorf("%w: encoded %d shard bytes, layout says %d", ErrInvalid, e.shardOff, e.l.ShardSize())
		return nil, e.err
	}
	r := &Result{Size: e.l.Size, ShardHashes: make([]Hash, len(e.shardH))}
	e.sha256.Sum(r.SHA256[:0])
	e.sha384.Sum(r.SHA384[:0])
	for i, h := range e.shardH {
		h.Sum(r.ShardHashes[i][:0])
	}
	return r, nil
}

// EncodeBytes encodes a whole object held in memory and returns its shards.
func EncodeBytes(l Layout, key Key, data []byte) ([][]byte, *Result, error) {
	if int64(len(data)) != l.Size {
		return nil, nil, fmt.Errorf("%w: %d bytes for a layout of %d", ErrInvalid, len(data), l.Size)
	}
	shards := make([][]byte, l.K+l.M)
	for i := range shards {
		shards[i] = make([]byte, 0, l.ShardSize())
	}
	enc, err := NewEncoder(l, key, func(_ int64, blocks [][]byte) error {
		for i, b := range blocks {
			shards[i] = append(shards[i], b...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if _, err := enc.Write(data); err != nil {
		return nil, nil, err
	}
	res, err := enc.Close()
	if err != nil {
		return nil, nil, err
	}
	return shards, res, nil
}
