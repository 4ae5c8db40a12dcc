package codec

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// Decoder rebuilds plaintext ranges of one object from its shards.
type Decoder struct {
	l    Layout
	aead cipher.AEAD
	rs   reedsolomon.Encoder
}

// NewDecoder returns a decoder of an object with layout l under key.
func NewDecoder(l Layout, key Key) (*Decoder, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	rs, err := newRS(l)
	if err != nil {
		return nil, err
	}
	return &Decoder{l: l, aead: aead, rs: rs}, nil
}

// DecodeRange returns plaintext [p.Off, p.Off+p.N) from the shards' bytes
// [p.ShardOff, p.ShardOff+p.ShardLen). shards has K+M entries; a missing
// shard is nil, and an entry of the wrong length counts as missing. At least
// K must be present. Data that fails authentication is ErrCorrupt: a range
// read cannot tell which shard is bad, so the caller should then check whole
// shards against their hashes. shards is not modified.
func (d *Decoder) DecodeRange(p Plan, shards [][]byte) ([]byte, error) {
	return d.DecodeRangeTo(nil, p, shards)
}

// DecodeRangeTo is DecodeRange decoding into dst's array when its capacity
// holds the decoded chunks (PlainLen; the result then shares the array),
// so that a caller can reuse its buffers; otherwise it allocates as
// DecodeRange does.
func (d *Decoder) DecodeRangeTo(dst []byte, p Plan, shards [][]byte) ([]byte, error) {
	l := d.l
	if len(shards) != l.K+l.M {
		return nil, fmt.Errorf("%w: %d shards given, want %d", ErrInvalid, len(shards), l.K+l.M)
	}
	if p.ShardLen <= 0 || p.ShardLen%l.Unit != 0 || p.ShardOff%l.Unit != 0 || p.FirstStripe*l.Unit != p.ShardOff ||
		p.ShardOff+p.ShardLen > l.ShardSize() || p.FirstChunk < 0 || p.LastChunk < p.FirstChunk || p.LastChunk >= l.Chunks() {
		return nil, fmt.Errorf("%w: plan %+v does not fit %s", ErrInvalid, p, l)
	}
	work := make([][]byte, len(shards))
	present, dataMissing := 0, false
	for i, s := range shards {
		if int64(len(s)) == p.ShardLen {
			work[i] = s
			present++
		} else if i < l.K {
			dataMissing = true
		}
	}
	if present < l.K {
		return nil, fmt.Errorf("%w: %d of the %d needed", ErrTooFewShards, present, l.K)
	}
	if dataMissing {
		// Missing data shards are rebuilt in pooled buffers (Reed-Solomon
		// uses an empty slice's capacity), given back once decrypted.
		for i := range l.K {
			if work[i] == nil {
				bp := getScratch(p.ShardLen)
				defer scratchPool.Put(bp)
				work[i] = (*bp)[:0]
			}
		}
		if err := d.rs.ReconstructData(work); err != nil {
			return nil, fmt.Errorf("%w: reconstruct: %w", ErrCorrupt, err)
		}
	}
	base := p.FirstStripe * l.StripeSize()
	fetched := p.ShardLen / l.Unit * l.StripeSize()
	sealedLen := l.ChunkSize + TagSize
	chunks := p.LastChunk - p.FirstChunk + 1
	plainLen := d.PlainLen(p)
	var out []byte
	if int64(cap(dst)) >= plainLen {
		out = dst[:plainLen]
	} else {
		out = make([]byte, plainLen)
	}
	// open decrypts chunks [from, to) into their places in out.
	open := func(from, to int64) error {
		sp := getScratch(sealedLen)
		defer scratchPool.Put(sp)
		scratch := *sp
		defer func() { *sp = scratch[:0] }()
		for c := from; c < to; c++ {
			lo := c*sealedLen - base
			hi := lo + l.chunkPlain(c) + TagSize
			if lo < 0 || hi > fetched {
				return fmt.Errorf("%w: chunk %d outside the fetched stripes", ErrInvalid, c)
			}
			var src []byte
			src, scratch = d.ciphertext(work, lo, hi, scratch)
			dst := out[(c-p.FirstChunk)*l.ChunkSize:]
			if _, err := d.aead.Open(dst[:0], nonce(c), src, aad(l.Size, c)); err != nil {
				return fmt.Errorf("%w: chunk %d fails authentication", ErrCorrupt, c)
			}
		}
		return nil
	}
	workers := int64(runtime.GOMAXPROCS(0))
	if plainLen < parallelMin || workers < 2 || chunks < 2 {
		if err := open(p.FirstChunk, p.LastChunk+1); err != nil {
			return nil, err
		}
	} else {
		workers = min(workers, chunks)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		per := ceilDiv(chunks, workers)
		for w := int64(0); w < workers; w++ {
			from := p.FirstChunk + w*per
			to := min(from+per, p.LastChunk+1)
			if from >= to {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = open(from, to)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	start := p.Off - p.FirstChunk*l.ChunkSize
	if start < 0 || start+p.N > int64(len(out)) {
		return nil, fmt.Errorf("%w: plan %+v does not fit the decoded chunks", ErrInvalid, p)
	}
	return out[start : start+p.N], nil
}

// PlainLen is the room DecodeRangeTo needs for plan p: its chunks'
// plaintext, from the start of the first.
func (d *Decoder) PlainLen(p Plan) int64 {
	return (p.LastChunk-p.FirstChunk)*d.l.ChunkSize + d.l.chunkPlain(p.LastChunk)
}

// scratchPool holds the buffers chunks that span stripe units are
// gathered in before they are opened: one sealed chunk each (64 KiB and
// its tag by default), reused across reads instead of allocated per read.
var scratchPool sync.Pool

// getScratch returns an empty pooled buffer with room for n bytes.
func getScratch(n int64) *[]byte {
	if p, ok := scratchPool.Get().(*[]byte); ok && int64(cap(*p)) >= n {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, n)
	return &b
}

// ciphertext returns ciphertext bytes [lo, hi), counted from the first
// fetched stripe, out of the data shards: a slice of a shard when the range
// lies in one unit, else a copy gathered in scratch.
func (d *Decoder) ciphertext(work [][]byte, lo, hi int64, scratch []byte) ([]byte, []byte) {
	unit, k := d.l.Unit, int64(d.l.K)
	at := func(pos int64) (shard, off int64) {
		u := pos / unit
		return u % k, (u/k)*unit + pos%unit
	}
	if lo/unit == (hi-1)/unit {
		i, off := at(lo)
		return work[i][off : off+hi-lo], scratch
	}
	scratch = scratch[:0]
	for pos := lo; pos < hi; {
		end := min(hi, (pos/unit+1)*unit)
		i, off := at(pos)
		scratch = append(scratch, work[i][off:off+end-pos]...)
		pos = end
	}
	return scratch, scratch
}

// DecodeBytes decodes a whole object from whole shards, excluding any shard
// whose hash differs from hashes[i] (when hashes is not nil).
func DecodeBytes(l Layout, key Key, shards [][]byte, hashes []Hash) ([]byte, error) {
	d, err := NewDecoder(l, key)
	if err != nil {
		return nil, err
	}
	if hashes != nil && len(hashes) != len(shards) {
		return nil, fmt.Errorf("%w: %d hashes for %d shards", ErrInvalid, len(hashes), len(shards))
	}
	good := make([][]byte, len(shards))
	for i, s := range shards {
		if s != nil && (hashes == nil || VerifyShard(s, hashes[i])) {
			good[i] = s
		}
	}
	p, err := l.PlanRange(0, l.Size)
	if err != nil {
		return nil, err
	}
	return d.DecodeRange(p, good)
}

// RebuildShard recomputes whole shard i from whole shards of the others
// (nil where missing; at least K present) and checks it against want.
func RebuildShard(l Layout, shards [][]byte, i int, want Hash) ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if len(shards) != l.K+l.M || i < 0 || i >= len(shards) {
		return nil, fmt.Errorf("%w: shard %d of %d given", ErrInvalid, i, len(shards))
	}
	work := make([][]byte, len(shards))
	present := 0
	for j, s := range shards {
		if j != i && int64(len(s)) == l.ShardSize() {
			work[j] = s
			present++
		}
	}
	if present < l.K {
		return nil, fmt.Errorf("%w: %d of the %d needed", ErrTooFewShards, present, l.K)
	}
	rs, err := newRS(l)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		return nil, fmt.Errorf("%w: no parity to rebuild from", ErrTooFewShards)
	}
	if i < l.K {
		err = rs.ReconstructData(work)
	} else {
		err = rs.Reconstruct(work)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reconstruct: %w", ErrCorrupt, err)
	}
	if !VerifyShard(work[i], want) {
		return nil, fmt.Errorf("%w: rebuilt shard %d does not match its hash", ErrCorrupt, i)
	}
	return work[i], nil
}
