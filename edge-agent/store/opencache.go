package store

import (
	"container/list"
	"os"
	"sync"
)

// DefaultOpenShards is how many recently read shards a store keeps open
// with their parsed sidecars (Options.OpenShards).
const DefaultOpenShards = 256

// openShards keeps the most recently read shards open, each with its
// checked sidecar, so that a read does not open, stat and parse two files
// again. Stored shards never change in place: a cached entry is dropped
// when its shard is deleted or quarantined (under the shard's key lock),
// and every read still verifies each block it serves against the sidecar.
// An entry's file is closed when it has left the cache and its last reader
// has closed it.
type openShards struct {
	mu  sync.Mutex
	max int
	ll  *list.List // of *openShard, most recently used first
	m   map[string]*list.Element
}

// openShard is one cached shard; refs counts its readers, plus one while
// it is cached.
type openShard struct {
	hash string
	f    *os.File
	sc   *Sidecar
	refs int
}

func newOpenShards(max int) *openShards {
	return &openShards{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// get returns the cached shard hash with a reference for the caller, or nil.
func (c *openShards) get(hash string) *openShard {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(e)
	o := e.Value.(*openShard)
	o.refs++
	return o
}

// add caches f and sc for hash and returns the entry with a reference for
// the caller. The caller holds hash's key lock and hash is not cached (the
// lock serialises misses). With caching off, the entry is the caller's
// alone.
func (c *openShards) add(hash string, f *os.File, sc *Sidecar) *openShard {
	o := &openShard{hash: hash, f: f, sc: sc, refs: 1}
	if c.max <= 0 {
		return o
	}
	var evicted []*openShard
	c.mu.Lock()
	if e, ok := c.m[hash]; ok { // defensive: never expected
		evicted = append(evicted, c.unlink(e))
	}
	o.refs++
	c.m[hash] = c.ll.PushFront(o)
	for c.ll.Len() > c.max {
		evicted = append(evicted, c.unlink(c.ll.Back()))
	}
	c.mu.Unlock()
	for _, v := range evicted {
		c.release(v)
	}
	return o
}

// unlink removes e from the cache; the caller releases the cache's
// reference outside the lock. Called with mu held.
func (c *openShards) unlink(e *list.Element) *openShard {
	o := e.Value.(*openShard)
	c.ll.Remove(e)
	delete(c.m, o.hash)
	return o
}

// drop removes hash from the cache (its file closes with its last reader).
func (c *openShards) drop(hash string) {
	c.mu.Lock()
	e, ok := c.m[hash]
	var o *openShard
	if ok {
		o = c.unlink(e)
	}
	c.mu.Unlock()
	if o != nil {
		c.release(o)
	}
}

// release gives up one reference to o, closing its file with the last.
func (c *openShards) release(o *openShard) {
	c.mu.Lock()
	o.refs--
	last := o.refs == 0
	c.mu.Unlock()
	if last {
		o.f.Close()
	}
}

// clear empties the cache (Store.Close).
func (c *openShards) clear() {
	c.mu.Lock()
	var all []*openShard
	for e := c.ll.Front(); e != nil; e = c.ll.Front() {
		all = append(all, c.unlink(e))
	}
	c.mu.Unlock()
	for _, o := range all {
		c.release(o)
	}
}

// len is the number of cached shards.
func (c *openShards) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
