package content

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// objectCache keeps decoded objects (immutable name@version) within a byte
// budget, least recently used first out.
type objectCache struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[string, []byte]
	bytes int64
	max   int64
}

func newObjectCache(maxBytes int64) *objectCache {
	c := &objectCache{max: maxBytes}
	if maxBytes <= 0 {
		return c
	}
	// The entry count is bounded by the byte budget, not by the LRU.
	l, _ := simplelru.NewLRU[string, []byte](1<<30, func(_ string, v []byte) { c.bytes -= int64(len(v)) })
	c.lru = l
	return c
}

func (c *objectCache) get(key string) ([]byte, bool) {
	if c.lru == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// keeps reports whether put keeps an object of size bytes.
func (c *objectCache) keeps(size int64) bool { return c.lru != nil && size <= c.max }

func (c *objectCache) put(key string, v []byte) {
	if !c.keeps(int64(len(v))) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.bytes -= int64(len(old))
	}
	c.lru.Add(key, v)
	c.bytes += int64(len(v))
	for c.bytes > c.max {
		c.lru.RemoveOldest()
	}
}

func (c *objectCache) remove(key string) {
	if c.lru == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}

func (c *objectCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// ttlCache remembers values for a while (manifests, node lists).
type ttlCache[V any] struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

func newTTLCache[V any](ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(key string) (V, bool) {
	var zero V
	if c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Since(e.at) > c.ttl {
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 100000 { // bound memory under name scans
		c.m = map[string]ttlEntry[V]{}
	}
	c.m[key] = ttlEntry[V]{v: v, at: time.Now()}
}

func (c *ttlCache[V]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
