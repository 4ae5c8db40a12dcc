package httpapi

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// limiter is a token bucket per key (an identity): rate tokens a second,
// at most burst saved up. The buckets live in a bounded LRU; a bucket
// evicted was idle the longest, and starts full when it comes back.
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets *lru.Cache[string, *bucket]
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiterSize bounds the identities whose buckets are kept.
const limiterSize = 4096

// newLimiter returns a limiter, or nil (no limit) when rate <= 0.
func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if rate <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	c, _ := lru.New[string, *bucket](limiterSize)
	return &limiter{rate: rate, burst: float64(max(burst, 1)), now: now, buckets: c}
}

// allow takes a token of key's bucket; when there is none it reports how
// long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets.Get(key)
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets.Add(key, b)
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}
