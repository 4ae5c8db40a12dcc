package memberauth_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/memberauth/memberauthtest"
)

func writePEM(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	org1, org2, stranger := memberauthtest.NewCA(t, "org1"), memberauthtest.NewCA(t, "org2"), memberauthtest.NewCA(t, "stranger")
	dir := t.TempDir()
	// Org1 as a PEM file, Org2 as an MSP cacerts directory.
	writePEM(t, filepath.Join(dir, "org1.pem"), org1.Cert)
	cacerts := filepath.Join(dir, "org2", "cacerts")
	_ = os.MkdirAll(cacerts, 0o755)
	writePEM(t, filepath.Join(cacerts, "ca.org2-cert.pem"), org2.Cert)
	v, err := memberauth.LoadVerifier([]string{"Org1MSP=" + filepath.Join(dir, "org1.pem"), "Org2MSP=" + filepath.Join(dir, "org2")})
	if err == nil {
		t.Fatal("a directory without certificates must be refused")
	}
	v, err = memberauth.LoadVerifier([]string{"Org1MSP=" + filepath.Join(dir, "org1.pem"), "Org2MSP=" + cacerts})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.MSPIDs(); !slices.Equal(got, []string{"Org1MSP", "Org2MSP"}) {
		t.Fatalf("MSPIDs = %v", got)
	}
	user1, user2 := org1.Issue(t, "User1@org1").Leaf, org2.Issue(t, "User1@org2").Leaf
	tests := []struct {
		name    string
		chain   []*x509.Certificate
		wantMSP string
	}{
		{"org1 member", []*x509.Certificate{user1}, "Org1MSP"},
		{"org2 member", []*x509.Certificate{user2}, "Org2MSP"},
		{"no certificate", nil, ""},
		{"wrong root", []*x509.Certificate{stranger.Issue(t, "mallory").Leaf}, ""},
		{"a root is not a member identity", []*x509.Certificate{stranger.Cert}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := v.Verify(tt.chain)
			if tt.wantMSP == "" {
				if !errors.Is(err, memberauth.ErrUnauthenticated) {
					t.Fatalf("Verify = %+v, %v; want ErrUnauthenticated", m, err)
				}
				return
			}
			if err != nil || m.MSPID != tt.wantMSP || m.CertHash != records.CertHash(tt.chain[0]) {
				t.Fatalf("Verify = %+v, %v; want %s", m, err, tt.wantMSP)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		// memberauthtest's certificates are valid for 24h.
		late, _ := memberauth.LoadVerifier([]string{"Org1MSP=" + filepath.Join(dir, "org1.pem")},
			memberauth.WithVerifyTime(func() time.Time { return time.Now().Add(48 * time.Hour) }))
		if _, err := late.Verify([]*x509.Certificate{user1}); !errors.Is(err, memberauth.ErrUnauthenticated) {
			t.Fatalf("expired certificate: %v", err)
		}
	})
}

// TestVerifyCache: a chain verified once is trusted again without a new
// check within memberauth.VerifyCacheTTL, but never beyond its validity
// period, and a refused chain is refused every time.
func TestVerifyCache(t *testing.T) {
	org1, stranger := memberauthtest.NewCA(t, "org1"), memberauthtest.NewCA(t, "stranger")
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	v, err := memberauth.NewVerifier(map[string][]*x509.Certificate{"Org1MSP": {org1.Cert}}, memberauth.WithVerifyTime(clock))
	if err != nil {
		t.Fatal(err)
	}
	user := org1.Issue(t, "User1@org1").Leaf
	start := clock()
	for i := range 3 {
		set(start.Add(time.Duration(i) * memberauth.VerifyCacheTTL / 2))
		if m, err := v.Verify([]*x509.Certificate{user}); err != nil || m.MSPID != "Org1MSP" || m.CertHash != records.CertHash(user) {
			t.Fatalf("Verify %d = %+v, %v", i, m, err)
		}
	}
	// Past the certificate's NotAfter (memberauthtest: 24h) the cached
	// answer is not used.
	set(user.NotAfter.Add(time.Second))
	if _, err := v.Verify([]*x509.Certificate{user}); !errors.Is(err, memberauth.ErrUnauthenticated) {
		t.Fatalf("expired certificate after a cached success: %v", err)
	}
	// Before its NotBefore neither.
	set(start)
	if _, err := v.Verify([]*x509.Certificate{user}); err != nil {
		t.Fatal(err)
	}
	set(user.NotBefore.Add(-time.Hour))
	if _, err := v.Verify([]*x509.Certificate{user}); !errors.Is(err, memberauth.ErrUnauthenticated) {
		t.Fatalf("certificate not yet valid after a cached success: %v", err)
	}
	set(start)
	bad := []*x509.Certificate{stranger.Issue(t, "mallory").Leaf}
	for i := range 2 {
		if _, err := v.Verify(bad); !errors.Is(err, memberauth.ErrUnauthenticated) {
			t.Fatalf("foreign certificate, try %d: %v", i, err)
		}
	}
	// The same leaf with another intermediate is another chain.
	if _, err := v.Verify([]*x509.Certificate{user, stranger.Cert}); err != nil {
		t.Fatalf("member with an extra certificate: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	org1 := memberauthtest.NewCA(b, "org1")
	v, err := memberauth.NewVerifier(map[string][]*x509.Certificate{"Org1MSP": {org1.Cert}})
	if err != nil {
		b.Fatal(err)
	}
	chain := []*x509.Certificate{org1.Issue(b, "User1@org1").Leaf}
	for b.Loop() {
		if _, err := v.Verify(chain); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadVerifierErrors(t *testing.T) {
	dir := t.TempDir()
	org1, org2 := memberauthtest.NewCA(t, "org1"), memberauthtest.NewCA(t, "org2")
	leafFile := filepath.Join(dir, "leaf.pem")
	writePEM(t, leafFile, org1.Issue(t, "u").Leaf)
	one, both := filepath.Join(dir, "one.pem"), filepath.Join(dir, "both.pem")
	writePEM(t, one, org1.Cert)
	writePEM(t, both, org1.Cert, org2.Cert)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("nothing"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, specs := range [][]string{
		nil,
		{"Org1MSP"},
		{"=x.pem"},
		{"Org1MSP="},
		{"Org1MSP=" + filepath.Join(dir, "missing.pem")},
		{"Org1MSP=" + notPEM},   // no certificate
		{"Org1MSP=" + leafFile}, // not a CA
		{"bad msp!=" + leafFile},
		{"Org1MSP=" + one, "Org2MSP=" + both}, // one CA for two members
	} {
		if _, err := memberauth.LoadVerifier(specs); !errors.Is(err, memberauth.ErrRoots) {
			t.Errorf("LoadVerifier(%q) = %v, want ErrRoots", specs, err)
		}
	}
	// A bundle of several CAs for one member, and an MSP id given twice.
	user1, user2 := org1.Issue(t, "User1@org1").Leaf, org2.Issue(t, "User1@org2").Leaf
	for _, specs := range [][]string{{"Org1MSP=" + both}, {"Org1MSP=" + one, "Org1MSP=" + both}} {
		v, err := memberauth.LoadVerifier(specs)
		if err != nil {
			t.Fatalf("LoadVerifier(%q): %v", specs, err)
		}
		for _, u := range []*x509.Certificate{user1, user2} {
			if m, err := v.Verify([]*x509.Certificate{u}); err != nil || m.MSPID != "Org1MSP" {
				t.Fatalf("LoadVerifier(%q): Verify(%s) = %+v, %v", specs, u.Subject, m, err)
			}
		}
	}
}

// fakeRoles counts lookups; its grants can change.
type fakeRoles struct {
	mu     sync.Mutex
	grants map[string][]records.Role
	calls  int
	err    error
}

func (f *fakeRoles) Roles(_ context.Context, mspID, certHash string) ([]records.Role, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.grants[mspID+"/"+certHash], nil
}

func TestRoleCache(t *testing.T) {
	now := time.Unix(1000, 0)
	src := &fakeRoles{grants: map[string][]records.Role{"Org1MSP/a": {records.RolePublisher}}}
	c := memberauth.NewRoleCache(src, memberauth.WithTTL(10*time.Second), memberauth.WithCacheSize(2),
		memberauth.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	check := func(key string, want []records.Role, calls int) {
		t.Helper()
		msp, hash, _ := cut(key)
		got, err := c.Roles(ctx, msp, hash)
		if err != nil || !slices.Equal(got, want) || src.calls != calls {
			t.Fatalf("Roles(%s) = %v, %v after %d lookups; want %v after %d", key, got, err, src.calls, want, calls)
		}
	}
	check("Org1MSP/a", []records.Role{records.RolePublisher}, 1)
	check("Org1MSP/a", []records.Role{records.RolePublisher}, 1) // cached
	// A revocation shows once the TTL has passed.
	src.grants["Org1MSP/a"] = nil
	now = now.Add(9 * time.Second)
	check("Org1MSP/a", []records.Role{records.RolePublisher}, 1)
	now = now.Add(2 * time.Second)
	check("Org1MSP/a", nil, 2)
	check("Org1MSP/a", nil, 2) // "no role" is cached too
	// Forget drops an entry at once.
	src.grants["Org1MSP/a"] = []records.Role{records.RoleAuditor}
	c.Forget("Org1MSP", "a")
	check("Org1MSP/a", []records.Role{records.RoleAuditor}, 3)
	// Bounded: a third identity evicts the least recently used.
	check("Org2MSP/b", nil, 4)
	check("Org2MSP/c", nil, 5)
	if c.Len() != 2 {
		t.Fatalf("cache holds %d identities, want 2", c.Len())
	}
	check("Org1MSP/a", []records.Role{records.RoleAuditor}, 6)
	// Failures are not cached.
	src.err = errors.New("ledger down")
	if _, err := c.Roles(ctx, "Org3MSP", "d"); err == nil {
		t.Fatal("want the source's error")
	}
	src.err = nil
	check("Org3MSP/d", nil, 8)
}

func TestRoleCacheNegativeTTL(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := memberauth.WithClock(func() time.Time { return now })
	ctx := context.Background()
	src := &fakeRoles{grants: map[string][]records.Role{
		"Org1MSP/gw":  {records.RoleGateway},
		"Org1MSP/pub": {records.RolePublisher},
	}}
	lookups := func(c *memberauth.RoleCache, keys ...string) int {
		t.Helper()
		before := src.calls
		for _, key := range keys {
			msp, hash, _ := cut(key)
			if _, err := c.Roles(ctx, msp, hash); err != nil {
				t.Fatal(err)
			}
		}
		return src.calls - before
	}
	keys := []string{"Org1MSP/gw", "Org1MSP/pub", "Org1MSP/none"}

	// Negative: without the gateway role. A grant is kept a minute, a
	// refusal (no role, or another role) 5s.
	c := memberauth.NewRoleCache(src, memberauth.WithTTL(time.Minute),
		memberauth.WithNegativeTTL(5*time.Second, records.RoleGateway), clock)
	if n := lookups(c, keys...); n != 3 {
		t.Fatalf("%d lookups, want 3", n)
	}
	now = now.Add(4 * time.Second)
	if n := lookups(c, keys...); n != 0 {
		t.Fatalf("%d lookups within both TTLs, want 0", n)
	}
	now = now.Add(2 * time.Second)
	if n := lookups(c, keys...); n != 2 {
		t.Fatalf("%d lookups after the negative TTL, want 2 (the refusals)", n)
	}
	now = now.Add(time.Minute)
	if n := lookups(c, "Org1MSP/gw"); n != 1 {
		t.Fatalf("%d lookups of the grant after the TTL, want 1", n)
	}

	// Negative: no role at all.
	now = now.Add(time.Hour)
	c = memberauth.NewRoleCache(src, memberauth.WithTTL(time.Minute), memberauth.WithNegativeTTL(5*time.Second, ""), clock)
	lookups(c, keys...)
	now = now.Add(6 * time.Second)
	if n := lookups(c, keys...); n != 1 {
		t.Fatalf("%d lookups after the negative TTL, want 1 (the identity without a role)", n)
	}

	// Negative answers not cached at all; failures never are.
	c = memberauth.NewRoleCache(src, memberauth.WithTTL(time.Minute), memberauth.WithNegativeTTL(0, records.RoleGateway), clock)
	if n := lookups(c, keys...) + lookups(c, keys...); n != 5 {
		t.Fatalf("%d lookups, want 5 (the grant once, the two refusals twice)", n)
	}
	src.err = errors.New("ledger down")
	if _, err := c.Roles(ctx, "Org1MSP", "other"); err == nil {
		t.Fatal("want the source's error")
	}
	src.err = nil
	if n := lookups(c, "Org1MSP/other"); n != 1 || c.Len() != 1 {
		t.Fatalf("after a failure: %d lookups, %d cached; want 1 lookup and 1 identity cached (the grant)", n, c.Len())
	}
}

func cut(key string) (string, string, bool) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

func TestAuthenticate(t *testing.T) {
	org1, stranger := memberauthtest.NewCA(t, "org1"), memberauthtest.NewCA(t, "stranger")
	v, err := memberauth.NewVerifier(map[string][]*x509.Certificate{"Org1MSP": {org1.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	pub := org1.Issue(t, "User1@org1").Leaf
	src := &fakeRoles{grants: map[string][]records.Role{"Org1MSP/" + records.CertHash(pub): {records.RolePublisher}}}
	a := memberauth.New(v, memberauth.NewRoleCache(src))
	ctx := context.Background()
	id, err := a.Authenticate(ctx, []*x509.Certificate{pub})
	if err != nil || !id.Has(records.RolePublisher) || id.MSPID != "Org1MSP" {
		t.Fatalf("Authenticate = %+v, %v", id, err)
	}
	if _, err := a.Authenticate(ctx, []*x509.Certificate{stranger.Issue(t, "x").Leaf}); !errors.Is(err, memberauth.ErrUnauthenticated) {
		t.Fatalf("stranger: %v", err)
	}
	src.err = errors.New("ledger down")
	if _, err := a.Authenticate(ctx, []*x509.Certificate{org1.Issue(t, "User3@org1").Leaf}); !errors.Is(err, memberauth.ErrRoleLookup) {
		t.Fatalf("lookup failure: %v", err)
	}
}
