package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	shardsDir     = "shards"
	quarantineDir = "quarantine"
	lockFile      = "LOCK"
	sidecarSuffix = ".blocks"
	uploadPrefix  = ".upload-"
	sidecarPrefix = ".sidecar-"
)

// Options configure a Store.
type Options struct {
	// Capacity is the most shard bytes the store holds (required, > 0).
	Capacity int64
	// BlockSize is the verification block size of new shards (default
	// DefaultBlockSize; a power of two in MinBlockSize..MaxBlockSize).
	BlockSize int
	// Logger receives recovery and corruption reports (default: discard).
	Logger *slog.Logger
	// OpenShards is how many recently read shards stay open with their
	// checked sidecars (0: DefaultOpenShards; negative: none). Each holds
	// one file descriptor.
	OpenShards int
}

// Stats is a snapshot of the store's use.
type Stats struct {
	Capacity int64
	// Used is the size of the stored shards.
	Used int64
	// Reserved is the size declared by uploads in progress.
	Reserved int64
	// Shards is the number of stored shards.
	Shards int64
	// Quarantined is the number of shards set aside as corrupt.
	Quarantined int64
}

// Free is the capacity neither used nor reserved.
func (s Stats) Free() int64 { return max(0, s.Capacity-s.Used-s.Reserved) }

// Store is a directory of shards. It is safe for concurrent use.
type Store struct {
	dir, shards, quarantine string
	capacity                int64
	blockSize               int
	log                     *slog.Logger
	lock                    *os.File
	keys                    keyLocks
	open                    *openShards

	mu          sync.Mutex
	closed      bool
	index       map[string]int64 // hash -> size
	used        int64
	reserved    int64
	quarantined int64
}

// ValidHash checks that hash is a SHA-256 in lowercase hex.
func ValidHash(hash string) error {
	if len(hash) != 64 {
		return fmt.Errorf("%w: hash must be 64 lowercase hex digits, got %d characters", ErrInvalid, len(hash))
	}
	for i := 0; i < len(hash); i++ {
		if c := hash[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: hash must be 64 lowercase hex digits, got %q", ErrInvalid, hash)
		}
	}
	return nil
}

// Open opens (creating when needed) the store in dir. It removes what a
// crash may have left (temporary files, sidecars without a shard), repairs
// or quarantines shards whose sidecar is missing, and recomputes the used
// bytes from disk. Another process holding dir makes it fail with ErrLocked.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.Capacity <= 0 {
		return nil, fmt.Errorf("%w: capacity must be positive, got %d", ErrInvalid, opts.Capacity)
	}
	if opts.BlockSize == 0 {
		opts.BlockSize = DefaultBlockSize
	}
	if !validBlockSize(opts.BlockSize) {
		return nil, fmt.Errorf("%w: block size %d must be a power of two in %d..%d", ErrInvalid, opts.BlockSize, MinBlockSize, MaxBlockSize)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OpenShards == 0 {
		opts.OpenShards = DefaultOpenShards
	}
	s := &Store{
		open: newOpenShards(opts.OpenShards),
		dir:  dir, shards: filepath.Join(dir, shardsDir), quarantine: filepath.Join(dir, quarantineDir),
		capacity: opts.Capacity, blockSize: opts.BlockSize, log: opts.Logger,
		index: map[string]int64{},
	}
	for _, d := range []string{dir, s.shards, s.quarantine} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	lock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if err := s.load(ctx); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// load rebuilds the index from disk and cleans up after a crash.
func (s *Store) load(ctx context.Context) error {
	q, err := os.ReadDir(s.quarantine)
	if err != nil {
		return err
	}
	for _, e := range q {
		if !strings.HasSuffix(e.Name(), sidecarSuffix) {
			s.quarantined++
		}
	}
	entries, err := os.ReadDir(s.shards)
	if err != nil {
		return err
	}
	sidecars := map[string]bool{}
	var temps, orphans, repaired int
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		switch {
		case strings.HasPrefix(name, uploadPrefix) || strings.HasPrefix(name, sidecarPrefix):
			if err := os.Remove(filepath.Join(s.shards, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			temps++
		case strings.HasSuffix(name, sidecarSuffix) && ValidHash(strings.TrimSuffix(name, sidecarSuffix)) == nil:
			sidecars[strings.TrimSuffix(name, sidecarSuffix)] = true
		case ValidHash(name) == nil && e.Type().IsRegular():
			info, err := e.Info()
			if err != nil {
				return err
			}
			s.index[name] = info.Size()
		default:
			s.log.Warn("store: ignoring unexpected file", "path", filepath.Join(s.shards, name))
		}
	}
	for h := range sidecars {
		if _, ok := s.index[h]; !ok {
			if err := os.Remove(s.sidecarPath(h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			orphans++
		}
	}
	for h := range s.index {
		if sidecars[h] {
			continue
		}
		// The shard reached its name but its sidecar did not (a crash
		// between the renames): the name is its hash, so check it.
		if err := s.repair(ctx, h); err != nil {
			return err
		}
		repaired++
	}
	if temps+orphans+repaired > 0 {
		if err := syncDir(s.shards); err != nil {
			return err
		}
		s.log.Info("store: recovered after an unclean stop", "tempFilesRemoved", temps,
			"orphanSidecarsRemoved", orphans, "shardsRechecked", repaired)
	}
	for _, size := range s.index {
		s.used += size
	}
	return nil
}

// repair rebuilds the sidecar of a shard whose bytes match its name and
// quarantines it otherwise. Called by load only.
func (s *Store) repair(ctx context.Context, hash string) error {
	f, err := os.Open(s.shardPath(hash))
	if err != nil {
		return err
	}
	h := newBlockHasher(s.blockSize, s.index[hash])
	_, err = io.Copy(h, ctxReader{ctx, f})
	f.Close()
	if err != nil {
		return err
	}
	sc := h.sidecar()
	if hexHash(sc.Hash) != hash {
		s.log.Error("store: shard without sidecar does not match its hash; quarantined", "hash", hash)
		delete(s.index, hash)
		return s.moveToQuarantine(hash)
	}
	return s.writeSidecar(hash, sc)
}

// Close releases the directory. Uploads still open are lost; their
// temporary files are removed by the next Open.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.open.clear()
	return s.lock.Close()
}

// Stats returns the current use.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Capacity: s.capacity, Used: s.used, Reserved: s.reserved,
		Shards: int64(len(s.index)), Quarantined: s.quarantined}
}

// Has reports whether the store holds the shard.
func (s *Store) Has(hash string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.index[hash]
	return ok
}

// Delete removes a shard. It reports whether the shard existed; deleting
// an absent shard is not an error.
func (s *Store) Delete(ctx context.Context, hash string) (existed bool, err error) {
	if err := ValidHash(hash); err != nil {
		return false, err
	}
	if err := s.check(ctx); err != nil {
		return false, err
	}
	unlock := s.keys.lock(hash)
	defer unlock()
	s.open.drop(hash)
	// The shard goes first: without it the sidecar is never used.
	err = os.Remove(s.shardPath(hash))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	default:
		existed = true
	}
	if err := os.Remove(s.sidecarPath(hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return existed, err
	}
	if existed {
		if err := syncDir(s.shards); err != nil {
			return true, err
		}
	}
	s.mu.Lock()
	if size, ok := s.index[hash]; ok {
		s.used -= size
		delete(s.index, hash)
	}
	s.mu.Unlock()
	return existed, nil
}

// quarantine sets aside a shard found corrupt through the open file f,
// unless it was replaced in the meantime.
func (s *Store) quarantineShard(hash string, f *os.File, reason error) {
	unlock := s.keys.lock(hash)
	defer unlock()
	fi, err1 := f.Stat()
	cur, err2 := os.Stat(s.shardPath(hash))
	if err1 != nil || err2 != nil || !os.SameFile(fi, cur) {
		return
	}
	s.log.Error("store: corrupt shard quarantined", "hash", hash, "err", reason)
	if err := s.moveToQuarantine(hash); err != nil {
		s.log.Error("store: quarantine failed", "hash", hash, "err", err)
		return
	}
	s.mu.Lock()
	if size, ok := s.index[hash]; ok {
		s.used -= size
		delete(s.index, hash)
	}
	s.mu.Unlock()
}

// moveToQuarantine moves a shard and its sidecar (when present) aside. The
// caller holds the key lock (or is load) and updates the index.
func (s *Store) moveToQuarantine(hash string) error {
	s.open.drop(hash)
	dst := filepath.Join(s.quarantine, hash+"."+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(s.sidecarPath(hash), dst+sidecarSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(s.shardPath(hash), dst); err != nil {
		return err
	}
	s.mu.Lock()
	s.quarantined++
	s.mu.Unlock()
	if err := syncDir(s.quarantine); err != nil {
		return err
	}
	return syncDir(s.shards)
}

func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

func (s *Store) shardPath(hash string) string   { return filepath.Join(s.shards, hash) }
func (s *Store) sidecarPath(hash string) string { return filepath.Join(s.shards, hash+sidecarSuffix) }

// writeSidecar writes a sidecar under its final name, atomically.
func (s *Store) writeSidecar(hash string, sc *Sidecar) error {
	tmp, err := s.writeTempSidecar(sc)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.sidecarPath(hash)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(s.shards)
}

// writeTempSidecar writes and fsyncs a sidecar under a temporary name.
func (s *Store) writeTempSidecar(sc *Sidecar) (string, error) {
	b, err := sc.MarshalBinary()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(s.shards, sidecarPrefix+"*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// keyLocks serialises operations on the same shard while letting
// operations on different shards run in parallel.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
