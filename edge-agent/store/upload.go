package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Upload is a shard being written. It is not safe for concurrent use.
// Finish it with Commit or Abort; until then its declared size is reserved.
type Upload struct {
	s       *Store
	f       *os.File
	size    int64
	written int64
	h       *blockHasher
	err     error // sticky write error
	done    bool
}

// Create starts an upload of a shard of the given size. It fails with
// ErrNoSpace, before anything is written, when the shard does not fit in
// the capacity left by the stored shards and the uploads in progress.
func (s *Store) Create(ctx context.Context, size int64) (*Upload, error) {
	if size < 0 || size > MaxShardSize {
		return nil, fmt.Errorf("%w: shard size %d", ErrInvalid, size)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.used+s.reserved+size > s.capacity {
		free := max(0, s.capacity-s.used-s.reserved)
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: shard of %d bytes, %d bytes free of %d", ErrNoSpace, size, free, s.capacity)
	}
	s.reserved += size
	s.mu.Unlock()
	f, err := os.CreateTemp(s.shards, uploadPrefix+"*")
	if err != nil {
		s.release(size)
		return nil, err
	}
	return &Upload{s: s, f: f, size: size, h: newBlockHasher(s.blockSize, size)}, nil
}

func (s *Store) release(size int64) {
	s.mu.Lock()
	s.reserved -= size
	s.mu.Unlock()
}

// Size is the declared size.
func (u *Upload) Size() int64 { return u.size }

// Written is the number of bytes written so far.
func (u *Upload) Written() int64 { return u.written }

// Write appends p to the shard. Writing past the declared size fails with
// ErrSizeMismatch. After an error the upload can only be aborted.
func (u *Upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, ErrUploadDone
	}
	if u.err != nil {
		return 0, u.err
	}
	if int64(len(p)) > u.size-u.written {
		u.err = fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, u.size)
		return 0, u.err
	}
	n, err := u.f.Write(p)
	u.h.Write(p[:n])
	u.written += int64(n)
	if err != nil {
		u.err = err
	}
	return n, err
}

// Commit stores the shard under hash, which must be the SHA-256 (lowercase
// hex) of the bytes written, and their number the declared size; otherwise
// nothing is kept (ErrHashMismatch, ErrSizeMismatch). Committing a shard the
// store already holds succeeds and keeps the stored copy. The upload is
// finished whatever the outcome.
func (u *Upload) Commit(ctx context.Context, hash string) (err error) {
	if u.done {
		return ErrUploadDone
	}
	defer func() {
		if err != nil {
			u.Abort()
		}
	}()
	if err := ValidHash(hash); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if u.err != nil {
		return u.err
	}
	if u.written != u.size {
		return fmt.Errorf("%w: received %d bytes, declared %d", ErrSizeMismatch, u.written, u.size)
	}
	sc := u.h.sidecar()
	if got := hexHash(sc.Hash); got != hash {
		return fmt.Errorf("%w: bytes hash to %s, declared %s", ErrHashMismatch, got, hash)
	}
	if err := u.f.Sync(); err != nil {
		return err
	}
	if err := u.f.Close(); err != nil {
		return err
	}
	scTmp, err := u.s.writeTempSidecar(sc)
	if err != nil {
		return err
	}
	installed, err := u.s.install(hash, u.size, u.f.Name(), scTmp)
	if installed {
		// Stored (or already held): the reservation is settled.
		u.done = true
		return err
	}
	os.Remove(scTmp)
	return err
}

// install moves a verified upload and its sidecar into place: the sidecar
// first, so that a served shard always has one. installed reports whether
// the shard is stored (and the reservation settled), even with an error.
func (s *Store) install(hash string, size int64, dataTmp, scTmp string) (installed bool, err error) {
	unlock := s.keys.lock(hash)
	defer unlock()
	s.mu.Lock()
	closed := s.closed
	_, exists := s.index[hash]
	s.mu.Unlock()
	if closed {
		return false, ErrClosed
	}
	if exists {
		os.Remove(dataTmp)
		os.Remove(scTmp)
		s.release(size)
		return true, nil
	}
	if err := os.Rename(scTmp, s.sidecarPath(hash)); err != nil {
		return false, err
	}
	if err := os.Rename(dataTmp, s.shardPath(hash)); err != nil {
		if rerr := os.Remove(s.sidecarPath(hash)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			s.log.Warn("store: orphan sidecar left", "hash", hash, "err", rerr)
		}
		return false, err
	}
	s.mu.Lock()
	s.index[hash] = size
	s.used += size
	s.reserved -= size
	s.mu.Unlock()
	// The shard is served from here on: a failed directory sync is
	// reported but does not undo it.
	return true, syncDir(s.shards)
}

// Abort drops the upload and releases its reservation. It is a no-op once
// the upload is finished.
func (u *Upload) Abort() {
	if u.done {
		return
	}
	u.done = true
	u.f.Close()
	if err := os.Remove(u.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		u.s.log.Warn("store: cannot remove aborted upload", "path", u.f.Name(), "err", err)
	}
	u.s.release(u.size)
}

func hexHash(sum [32]byte) string { return hex.EncodeToString(sum[:]) }
