package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// maxSidecarBytes bounds the sidecar read into memory (it describes a
// MaxShardSize shard at the smallest block size with room to spare).
const maxSidecarBytes = sidecarMin + (MaxShardSize/MinBlockSize)*sha256.Size

// Shard is an open stored shard. Its bytes stay readable even if the shard
// is deleted meanwhile. Close it when done.
type Shard struct {
	s      *Store
	hash   string
	f      *os.File
	sc     *Sidecar
	o      *openShard
	closed bool
}

// OpenShard opens a shard for reading. It fails with ErrNotFound when the
// store does not hold it and with ErrCorrupt when its sidecar is damaged or
// does not describe it (the shard is then quarantined). Recently read
// shards are kept open with their checked sidecars (Options.OpenShards).
func (s *Store) OpenShard(ctx context.Context, hash string) (*Shard, error) {
	if err := ValidHash(hash); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if o := s.open.get(hash); o != nil {
		return &Shard{s: s, hash: hash, f: o.f, sc: o.sc, o: o}, nil
	}
	unlock := s.keys.lock(hash)
	defer func() {
		if unlock != nil {
			unlock()
		}
	}()
	if o := s.open.get(hash); o != nil { // another miss of the same shard
		return &Shard{s: s, hash: hash, f: o.f, sc: o.sc, o: o}, nil
	}
	f, err := os.Open(s.shardPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, hash)
	}
	if err != nil {
		return nil, err
	}
	raw, err := readSidecar(s.sidecarPath(hash))
	quarantine := errors.Is(err, ErrCorrupt)
	var sc *Sidecar
	if err == nil {
		if sc, err = ParseSidecar(raw); err == nil {
			err = describes(sc, hash, f)
		}
		if err != nil {
			err = fmt.Errorf("shard %s: %w", hash, err)
			quarantine = true
		}
	}
	if err == nil {
		// Cached under the key lock, which Delete and quarantine take to
		// drop it.
		return &Shard{s: s, hash: hash, f: f, sc: sc, o: s.open.add(hash, f, sc)}, nil
	}
	unlock() // quarantineShard takes the key lock
	unlock = nil
	if quarantine {
		s.quarantineShard(hash, f, err)
	}
	f.Close()
	return nil, err
}

func readSidecar(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: sidecar missing", ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxSidecarBytes {
		return nil, fmt.Errorf("%w: sidecar of %d bytes", ErrCorrupt, fi.Size())
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%w: sidecar: %v", ErrCorrupt, err)
	}
	return b, nil
}

// describes checks that sc belongs to the shard hash stored in f.
func describes(sc *Sidecar, hash string, f *os.File) error {
	if hexHash(sc.Hash) != hash {
		return fmt.Errorf("%w: sidecar describes shard %s", ErrCorrupt, hexHash(sc.Hash))
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != sc.Size {
		return fmt.Errorf("%w: %d bytes on disk, %d recorded", ErrCorrupt, fi.Size(), sc.Size)
	}
	return nil
}

// Hash is the shard's hash.
func (sh *Shard) Hash() string { return sh.hash }

// Size is the shard's size in bytes.
func (sh *Shard) Size() int64 { return sh.sc.Size }

// Close releases the shard.
func (sh *Shard) Close() error {
	if sh.closed {
		return nil
	}
	sh.closed = true
	sh.s.open.release(sh.o)
	return nil
}

// CheckRange validates a read of n bytes at off (n = 0: to the end) and
// returns the length it covers.
func CheckRange(size, off, n int64) (int64, error) {
	switch {
	case off < 0 || n < 0:
		return 0, fmt.Errorf("%w: offset %d, length %d", ErrInvalid, off, n)
	case off > size:
		return 0, fmt.Errorf("%w: offset %d beyond the shard's %d bytes", ErrOutOfRange, off, size)
	case n == 0:
		return size - off, nil
	case n > size-off:
		return 0, fmt.Errorf("%w: %d bytes at offset %d beyond the shard's %d bytes", ErrOutOfRange, n, off, size)
	}
	return n, nil
}

var blockPool = sync.Pool{New: func() any { b := make([]byte, DefaultBlockSize); return &b }}

// ReadRange writes n bytes at off (n = 0: to the end of the shard) to w and
// returns how many it wrote. Every block the range touches is verified
// before any of its bytes are written. The block hashes stand for the
// whole: they were computed with the shard hash at commit and the sidecar
// binds them together under its checksum, so a whole read does not hash
// the shard a second time (the gateway checks what it receives anyway). A
// mismatch stops the read with ErrCorrupt and quarantines the shard. Errors of w are returned as they are.
func (sh *Shard) ReadRange(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	n, err := CheckRange(sh.sc.Size, off, n)
	if err != nil || n == 0 {
		if err == nil && sh.sc.Size == 0 && sh.sc.Hash != sha256.Sum256(nil) {
			return 0, sh.corrupt(fmt.Errorf("%w: empty shard does not match its hash", ErrCorrupt))
		}
		return 0, err
	}
	bs := int64(sh.sc.BlockSize)
	var buf []byte
	if bs == DefaultBlockSize {
		p := blockPool.Get().(*[]byte)
		defer blockPool.Put(p)
		buf = *p
	} else {
		buf = make([]byte, bs)
	}
	end := off + n
	var written int64
	for blk := off / bs; blk*bs < end; blk++ {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		start := blk * bs
		b := buf[:min(bs, sh.sc.Size-start)]
		if _, err := sh.f.ReadAt(b, start); err != nil {
			if errors.Is(err, io.EOF) {
				return written, sh.corrupt(fmt.Errorf("%w: block %d truncated", ErrCorrupt, blk))
			}
			return written, err
		}
		if sum := sha256.Sum256(b); !bytes.Equal(sum[:], sh.sc.BlockHash(blk)) {
			return written, sh.corrupt(fmt.Errorf("%w: block %d (bytes %d..%d) does not match its hash", ErrCorrupt, blk, start, start+int64(len(b))-1))
		}
		lo, hi := max(off, start)-start, min(end, start+int64(len(b)))-start
		k, err := w.Write(b[lo:hi])
		written += int64(k)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func (sh *Shard) corrupt(err error) error {
	err = fmt.Errorf("shard %s: %w", sh.hash, err)
	sh.s.quarantineShard(sh.hash, sh.f, err)
	return err
}

// ReadRange opens the shard, reads n bytes at off to w (see
// Shard.ReadRange) and closes it.
func (s *Store) ReadRange(ctx context.Context, hash string, off, n int64, w io.Writer) (int64, error) {
	sh, err := s.OpenShard(ctx, hash)
	if err != nil {
		return 0, err
	}
	defer sh.Close()
	return sh.ReadRange(ctx, off, n, w)
}
