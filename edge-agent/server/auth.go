package server

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	lru "github.com/hashicorp/golang-lru/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Ledger is what the agent reads of the ledger to authorise calls
// (*ledger.Client): the identity registry and the content manifests. A
// missing record is an error wrapping records.ErrNotFound.
type Ledger interface {
	GetIdentity(ctx context.Context, mspID, certHash string) (*records.Identity, error)
	GetManifest(ctx context.Context, name, version string) (*records.Manifest, error)
	ManifestVersions(ctx context.Context, name string) ([]*records.Manifest, error)
}

// MemberCAs are the member organisations' MSP root (and intermediate)
// CAs: a client certificate that chains to the CAs of one member is an
// identity of that member's MSP.
type MemberCAs struct {
	ids   []string // sorted MSP ids
	pools map[string]*x509.CertPool
	all   *x509.CertPool
}

// ParseMemberCAs reads "MSPID=ca.pem" specifications (each file a PEM
// bundle of the member's MSP CA certificates, e.g. its msp/cacerts/*.pem
// and msp/intermediatecerts/*.pem concatenated). A CA certificate listed
// for two MSPs is refused: the verifying CA must tell the member.
func ParseMemberCAs(specs []string) (*MemberCAs, error) {
	if len(specs) == 0 {
		return nil, errors.New("no member CA (MSPID=ca.pem)")
	}
	m := &MemberCAs{pools: map[string]*x509.CertPool{}, all: x509.NewCertPool()}
	owner := map[string]string{} // CA certificate hash -> MSP id
	for _, spec := range specs {
		msp, file, ok := strings.Cut(spec, "=")
		if !ok || msp == "" || file == "" {
			return nil, fmt.Errorf("member CA %q: want MSPID=ca.pem", spec)
		}
		if err := records.ValidateMSPID("mspId", msp); err != nil {
			return nil, fmt.Errorf("member CA %q: %w", spec, err)
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("member CA of %s: %w", msp, err)
		}
		certs, err := parseCerts(raw)
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("member CA of %s: %s holds no certificate (%v)", msp, file, err)
		}
		pool := m.pools[msp]
		if pool == nil {
			pool = x509.NewCertPool()
			m.pools[msp] = pool
			m.ids = append(m.ids, msp)
		}
		for _, c := range certs {
			h := records.CertHash(c)
			if o, ok := owner[h]; ok && o != msp {
				return nil, fmt.Errorf("member CA %s is listed for both %s and %s", c.Subject, o, msp)
			}
			owner[h] = msp
			pool.AddCert(c)
			m.all.AddCert(c)
		}
	}
	slices.Sort(m.ids)
	return m, nil
}

func parseCerts(raw []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, raw = pem.Decode(raw)
		if block == nil {
			return out, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// MSPIDs are the members' MSP ids, sorted.
func (m *MemberCAs) MSPIDs() []string { return slices.Clone(m.ids) }

// Pool is every member CA: the TLS layer's client CAs.
func (m *MemberCAs) Pool() *x509.CertPool { return m.all }

// Identify returns the MSP id whose CAs verify the client chain (leaf
// first, then the intermediates the client sent) for client
// authentication.
func (m *MemberCAs) Identify(chain []*x509.Certificate) (string, error) {
	if len(chain) == 0 {
		return "", fmt.Errorf("%w: no client certificate", ErrUnauthenticated)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for _, msp := range m.ids {
		_, err := chain[0].Verify(x509.VerifyOptions{
			Roots: m.pools[msp], Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err == nil {
			return msp, nil
		}
	}
	return "", fmt.Errorf("%w: certificate %s chains to no member CA", ErrUnauthenticated, chain[0].Subject)
}

// Caller is an authenticated client: its organisation and the hash of its
// certificate, as the identity registry names it.
type Caller struct {
	MSPID    string
	CertHash string
}

func (c Caller) String() string { return c.CertHash[:min(12, len(c.CertHash))] + "@" + c.MSPID }

type callerKey struct{}

// CallerFrom returns the caller the authorizer admitted.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// AuthConfig configures the Authorizer.
type AuthConfig struct {
	// CacheSize bounds the cached registry answers (default 1024).
	CacheSize int
	// AllowTTL is how long a gateway grant is trusted without asking the
	// ledger again (default 1m); DenyTTL how long a refusal is (default
	// 5s).
	AllowTTL, DenyTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authorizer admits to the shard service only identities the ledger's
// identity registry grants the gateway role.
type Authorizer struct {
	members *MemberCAs
	ledger  Ledger
	cfg     AuthConfig
	cache   *lru.Cache[string, grant]
	log     *slog.Logger
}

type grant struct {
	ok    bool
	until time.Time
}

// NewAuthorizer returns an authorizer identifying callers with members and
// looking their roles up in l.
func NewAuthorizer(members *MemberCAs, l Ledger, cfg AuthConfig, log *slog.Logger) (*Authorizer, error) {
	if members == nil || l == nil {
		return nil, errors.New("authorizer: member CAs and a ledger are required")
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1024
	}
	if cfg.AllowTTL <= 0 {
		cfg.AllowTTL = time.Minute
	}
	if cfg.DenyTTL <= 0 {
		cfg.DenyTTL = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cache, err := lru.New[string, grant](cfg.CacheSize)
	if err != nil {
		return nil, err
	}
	return &Authorizer{members: members, ledger: l, cfg: cfg, cache: cache, log: log}, nil
}

// Authorize identifies the caller of ctx from its TLS client certificate
// and checks that it has the gateway role.
func (a *Authorizer) Authorize(ctx context.Context) (Caller, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Caller{}, fmt.Errorf("%w: no peer", ErrUnauthenticated)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Caller{}, fmt.Errorf("%w: not a TLS connection", ErrUnauthenticated)
	}
	msp, err := a.members.Identify(info.State.PeerCertificates)
	if err != nil {
		return Caller{}, err
	}
	c := Caller{MSPID: msp, CertHash: records.CertHash(info.State.PeerCertificates[0])}
	key := c.MSPID + "\x00" + c.CertHash
	now := a.cfg.Now()
	if g, ok := a.cache.Get(key); ok && now.Before(g.until) {
		if !g.ok {
			return c, fmt.Errorf("%w: %s has no gateway role on the ledger", ErrPermissionDenied, c)
		}
		return c, nil
	}
	id, err := a.ledger.GetIdentity(ctx, c.MSPID, c.CertHash)
	switch {
	case errors.Is(err, records.ErrNotFound):
		id = nil
	case err != nil:
		return c, fmt.Errorf("%w: identity registry: %w", ErrLedgerUnavailable, err)
	}
	allowed := id.Has(records.RoleGateway)
	ttl := a.cfg.DenyTTL
	if allowed {
		ttl = a.cfg.AllowTTL
	}
	a.cache.Add(key, grant{ok: allowed, until: now.Add(ttl)})
	if !allowed {
		a.log.Info("refused a caller without the gateway role", "caller", c.String())
		return c, fmt.Errorf("%w: %s has no gateway role on the ledger", ErrPermissionDenied, c)
	}
	return c, nil
}

// guarded reports whether a method is subject to the role check: the
// shard service is, the health service is not.
func guarded(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/dct.v1.ShardService/")
}

// UnaryInterceptor authorises unary calls of the shard service.
func (a *Authorizer) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if !guarded(info.FullMethod) {
			return h(ctx, req)
		}
		c, err := a.Authorize(ctx)
		if err != nil {
			return nil, Status(err)
		}
		return h(context.WithValue(ctx, callerKey{}, c), req)
	}
}

// StreamInterceptor authorises streaming calls of the shard service.
func (a *Authorizer) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if !guarded(info.FullMethod) {
			return h(srv, ss)
		}
		c, err := a.Authorize(ss.Context())
		if err != nil {
			return Status(err)
		}
		return h(srv, &callerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callerKey{}, c)})
	}
}

type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }
