package content

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// liveGrace: manifests looked up within this long after the manifest
// event stream came (back) up keep the polling TTL, since a change
// committed while the subscription was being set up may have no event.
const liveGrace = time.Second

// maxManifestEntries bounds the manifest cache under name scans.
const maxManifestEntries = 100000

// manifestCache keeps looked-up manifests ("name@version", "name@" for
// the latest). An entry is reused for ttl (the polling fallback); while
// the ledger's manifest events are live (setLive), for liveTTL, since an
// event drops it as soon as its version changes (drop). A lookup that
// raced with a drop does not store its now stale answer: get hands out
// the key's generation, which every drop advances, and put stores only
// under the generation it was given. ttl <= 0 turns caching off.
type manifestCache struct {
	mu        sync.Mutex
	ttl       time.Duration
	liveTTL   time.Duration
	m         map[string]manifestEntry
	seq       uint64
	live      bool
	liveSince time.Time
	now       func() time.Time
}

type manifestEntry struct {
	m     *records.Manifest // nil: dropped (the generation is kept)
	at    time.Time         // when the lookup that filled it started
	gen   uint64
	stale bool // soft-purged: m is kept, but the next get misses (revalidation)
}

// manifestMiss is what put needs of the get that missed.
type manifestMiss struct {
	gen uint64
	at  time.Time
	// stale is the soft-purged manifest the lookup revalidates, or nil.
	stale *records.Manifest
}

func newManifestCache(ttl, liveTTL time.Duration) *manifestCache {
	return &manifestCache{ttl: ttl, liveTTL: max(liveTTL, ttl), m: map[string]manifestEntry{}, now: time.Now}
}

// get returns the cached manifest of key, or the miss to hand to put.
func (c *manifestCache) get(key string) (*records.Manifest, bool, manifestMiss) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e := c.m[key]
	if e.m != nil && !e.stale && c.fresh(e, now) {
		return e.m, true, manifestMiss{}
	}
	miss := manifestMiss{gen: e.gen, at: now}
	if e.stale {
		miss.stale = e.m
	}
	return nil, false, miss
}

func (c *manifestCache) fresh(e manifestEntry, now time.Time) bool {
	age := now.Sub(e.at)
	if age <= c.ttl {
		return true
	}
	return c.live && !e.at.Before(c.liveSince.Add(liveGrace)) && age <= c.liveTTL
}

// put stores m under key unless the key was dropped since the get that
// missed.
func (c *manifestCache) put(key string, m *records.Manifest, miss manifestMiss) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key].gen != miss.gen {
		return // dropped while it was looked up: the answer may be stale
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= maxManifestEntries {
		c.clearLocked()
		return
	}
	c.m[key] = manifestEntry{m: m, at: miss.at, gen: miss.gen}
}

// clearLocked empties the cache (a name scan filled it). A lookup in
// flight for a key whose drop was cleared away may then store its answer:
// that needs a change event, a scan of maxManifestEntries names and the
// lookup's answer to cross, and the entry still expires with its TTL.
func (c *manifestCache) clearLocked() { c.m = map[string]manifestEntry{} }

// drop forgets key and advances its generation.
func (c *manifestCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	if _, ok := c.m[key]; !ok && len(c.m) >= maxManifestEntries {
		c.clearLocked()
	}
	c.m[key] = manifestEntry{gen: c.seq} // remembered, so a racing lookup's put is refused
}

// markStale marks key's manifest stale (a soft purge): the next get
// misses, so the lookup revalidates it against the ledger; a lookup in
// flight does not store its answer.
func (c *manifestCache) markStale(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.m == nil {
		return // nothing cached: the next lookup asks the ledger anyway
	}
	c.seq++
	e.gen, e.stale = c.seq, true
	c.m[key] = e
}

// cached reports whether key has a manifest (fresh or not): whether
// readers asked for it lately.
func (c *manifestCache) cached(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key].m != nil
}

// setLive switches between the event-driven lifetime and the polling TTL.
func (c *manifestCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if live && !c.live {
		c.liveSince = c.now()
	}
	c.live = live
}

// isLive reports whether manifest events are live.
func (c *manifestCache) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// latest returns up to max cached latest manifests ("name@" entries, fresh
// or not, not purged), sorted by name.
func (c *manifestCache) latest(max int) []*records.Manifest {
	c.mu.Lock()
	var out []*records.Manifest
	for k, e := range c.m {
		if len(out) >= max {
			break
		}
		if e.m != nil && strings.HasSuffix(k, "@") && !e.m.IsPurged() {
			out = append(out, e.m)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b *records.Manifest) int { return strings.Compare(a.Name, b.Name) })
	return out
}
