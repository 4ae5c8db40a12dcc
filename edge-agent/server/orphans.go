package server

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Uploads remembers, for a bounded time and count, the shards this agent
// received that it did not hold before, with the identity that uploaded
// them. They are the shards no manifest may name yet: a publish that fails
// before its manifest is recorded deletes them again, and only the
// uploader may (DeleteShard's orphan rule).
//
// A shard leaves the record when the uploader deletes it, when another
// identity uploads the same shard too (it is no longer one caller's to
// withdraw), when it is older than the TTL, or when newer uploads push it
// out of the bounded record. It then stays on disk until the ledger lets
// it go (a manifest that names it is purged, or lists other holders);
// shards no manifest ever names stay as orphans (see the package
// documentation).
type Uploads struct {
	mu    sync.Mutex
	ttl   time.Duration
	now   func() time.Time
	cache *lru.Cache[string, upload]
}

type upload struct {
	by     Caller
	object string
	at     time.Time
	shared bool
}

// NewUploads returns a record of at most size uploads kept for ttl.
func NewUploads(size int, ttl time.Duration, now func() time.Time) *Uploads {
	if size <= 0 {
		size = 4096
	}
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	if now == nil {
		now = time.Now
	}
	c, _ := lru.New[string, upload](size) // size > 0: no error
	return &Uploads{ttl: ttl, now: now, cache: c}
}

// Received records that by uploaded hash for object; existed tells whether
// the agent already held the shard, which makes it nobody's to withdraw.
// An upload for no object is not recorded.
func (u *Uploads) Received(hash string, by Caller, object string, existed bool) {
	if object == "" {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	prev, ok := u.cache.Peek(hash)
	fresh := ok && u.now().Sub(prev.at) < u.ttl
	switch {
	case existed && !fresh:
		return // held before, and not by a recent upload
	case fresh && (prev.by != by || prev.object != object):
		prev.shared = true
		u.cache.Add(hash, prev)
	case fresh:
		return // the same uploader again: keep the first time
	default:
		u.cache.Add(hash, upload{by: by, object: object, at: u.now()})
	}
}

// Owned reports whether by uploaded hash for object within the TTL and no
// other identity did (nor for another object).
func (u *Uploads) Owned(hash string, by Caller, object string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	rec, ok := u.cache.Peek(hash)
	if !ok {
		return false
	}
	if u.now().Sub(rec.at) >= u.ttl {
		u.cache.Remove(hash)
		return false
	}
	return !rec.shared && rec.by == by && rec.object == object
}

// Forget drops the record of hash.
func (u *Uploads) Forget(hash string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cache.Remove(hash)
}
