package memberauth

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	lru "github.com/hashicorp/golang-lru/v2"
)

// RoleSource reads the roles the registry grants a certificate of an
// organisation; an identity without a grant has none (nil, nil).
// *ledger.Client implements it.
type RoleSource interface {
	Roles(ctx context.Context, mspID, certHash string) ([]records.Role, error)
}

// RoleCache is a RoleSource that remembers answers of another for a time
// to live, in a bounded LRU. Failed lookups are not remembered. Negative
// answers may be remembered for a shorter time (WithNegativeTTL).
type RoleCache struct {
	src    RoleSource
	ttl    time.Duration
	negTTL time.Duration
	// needed: an answer without it is negative ("": an answer without
	// any role).
	needed records.Role
	now    func() time.Time

	mu    sync.Mutex
	cache *lru.Cache[string, roleEntry]
}

type roleEntry struct {
	roles   []records.Role
	expires time.Time
}

// CacheOption configures a RoleCache.
type CacheOption func(*cacheOptions)

type cacheOptions struct {
	size   int
	ttl    time.Duration
	negTTL *time.Duration
	needed records.Role
	now    func() time.Time
}

// WithCacheSize bounds the identities remembered (default 1024).
func WithCacheSize(n int) CacheOption { return func(o *cacheOptions) { o.size = n } }

// WithTTL sets how long an answer is used (default 10s): a grant or a
// revocation takes effect within it.
func WithTTL(d time.Duration) CacheOption { return func(o *cacheOptions) { o.ttl = d } }

// WithNegativeTTL remembers negative answers for d instead of the TTL
// (d <= 0: not at all). An answer is negative when it does not grant role,
// or, with role "", when it grants no role at all. A service that admits
// only holders of one role sets it to that role with a d shorter than the
// TTL: an identity granted the role gets in within d, while a grant is
// trusted for the TTL. Default: negative answers are kept for the TTL.
func WithNegativeTTL(d time.Duration, role records.Role) CacheOption {
	return func(o *cacheOptions) { o.negTTL, o.needed = &d, role }
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) CacheOption { return func(o *cacheOptions) { o.now = now } }

// Defaults of NewRoleCache.
const (
	DefaultCacheSize = 1024
	DefaultTTL       = 10 * time.Second
)

// NewRoleCache caches the answers of src.
func NewRoleCache(src RoleSource, opts ...CacheOption) *RoleCache {
	o := cacheOptions{size: DefaultCacheSize, ttl: DefaultTTL, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if o.size <= 0 {
		o.size = DefaultCacheSize
	}
	c, _ := lru.New[string, roleEntry](o.size) // size > 0: no error
	rc := &RoleCache{src: src, ttl: o.ttl, negTTL: o.ttl, now: o.now, cache: c}
	if o.negTTL != nil {
		rc.negTTL, rc.needed = *o.negTTL, o.needed
	}
	return rc
}

// negative reports whether an answer is negative (see WithNegativeTTL).
func (c *RoleCache) negative(roles []records.Role) bool {
	if c.needed == "" {
		return len(roles) == 0
	}
	return !slices.Contains(roles, c.needed)
}

func cacheKey(mspID, certHash string) string { return mspID + "\x00" + certHash }

// Roles returns the cached roles, or reads them from the source.
func (c *RoleCache) Roles(ctx context.Context, mspID, certHash string) ([]records.Role, error) {
	key := cacheKey(mspID, certHash)
	c.mu.Lock()
	e, ok := c.cache.Get(key)
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return slices.Clone(e.roles), nil
	}
	roles, err := c.src.Roles(ctx, mspID, certHash)
	if err != nil {
		return nil, err
	}
	ttl := c.ttl
	if c.negative(roles) {
		ttl = c.negTTL
	}
	if ttl > 0 {
		c.mu.Lock()
		c.cache.Add(key, roleEntry{roles: slices.Clone(roles), expires: c.now().Add(ttl)})
		c.mu.Unlock()
	}
	return roles, nil
}

// Forget drops an identity's cached roles.
func (c *RoleCache) Forget(mspID, certHash string) {
	c.mu.Lock()
	c.cache.Remove(cacheKey(mspID, certHash))
	c.mu.Unlock()
}

// Len is the number of identities cached.
func (c *RoleCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.Len()
}

// Identity is an authenticated member with its roles in the registry.
type Identity struct {
	Member
	Roles []records.Role `json:"roles"`
}

// Has reports whether the identity has role r.
func (id Identity) Has(r records.Role) bool { return slices.Contains(id.Roles, r) }

// Authenticator verifies client certificates and looks their roles up.
type Authenticator struct {
	v     *Verifier
	roles RoleSource
}

// New returns an authenticator over a verifier and a role source
// (usually a RoleCache).
func New(v *Verifier, roles RoleSource) *Authenticator { return &Authenticator{v: v, roles: roles} }

// Verifier is the authenticator's certificate verifier.
func (a *Authenticator) Verifier() *Verifier { return a.v }

// Verify authenticates a certificate chain without looking roles up.
func (a *Authenticator) Verify(chain []*x509.Certificate) (Member, error) { return a.v.Verify(chain) }

// Roles looks an authenticated member's roles up (ErrRoleLookup when the
// registry cannot be read).
func (a *Authenticator) Roles(ctx context.Context, m Member) (Identity, error) {
	roles, err := a.roles.Roles(ctx, m.MSPID, m.CertHash)
	if err != nil {
		return Identity{Member: m}, fmt.Errorf("%w: roles of %s: %w", ErrRoleLookup, m, err)
	}
	return Identity{Member: m, Roles: roles}, nil
}

// Authenticate verifies a client's chain (leaf first) and looks its roles
// up.
func (a *Authenticator) Authenticate(ctx context.Context, chain []*x509.Certificate) (Identity, error) {
	m, err := a.v.Verify(chain)
	if err != nil {
		return Identity{}, err
	}
	return a.Roles(ctx, m)
}
