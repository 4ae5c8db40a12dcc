package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/memberauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Ledger is what the agent reads of the ledger to authorise calls
// (*ledger.Client): the roles the identity registry grants (nil for an
// identity it does not know) and the content manifests, where a missing
// record is an error wrapping records.ErrNotFound.
type Ledger interface {
	memberauth.RoleSource
	GetManifest(ctx context.Context, name, version string) (*records.Manifest, error)
	ManifestVersions(ctx context.Context, name string) ([]*records.Manifest, error)
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

// NewRoleCache caches the registry's answers as the agent uses them
// (--role-cache-ttl): a gateway grant is trusted for ttl, a refusal (an
// answer without the gateway role) for DenyTTL(ttl); a failed lookup is not
// remembered. opts may add to or override that (memberauth.WithCacheSize,
// memberauth.WithClock).
func NewRoleCache(src memberauth.RoleSource, ttl time.Duration, opts ...memberauth.CacheOption) *memberauth.RoleCache {
	return memberauth.NewRoleCache(src, append([]memberauth.CacheOption{
		memberauth.WithTTL(ttl), memberauth.WithNegativeTTL(DenyTTL(ttl), records.RoleGateway),
	}, opts...)...)
}

// DenyTTL is how long a refusal is remembered when a grant is for ttl:
// ttl/12, at least a second.
func DenyTTL(ttl time.Duration) time.Duration { return max(time.Second, ttl/12) }

// Authorizer admits to the shard service only identities the ledger's
// identity registry grants the gateway role.
type Authorizer struct {
	auth *memberauth.Authenticator
	log  *slog.Logger
}

// NewAuthorizer returns an authorizer identifying callers and looking
// their roles up with auth (whose role source is usually NewRoleCache's).
func NewAuthorizer(auth *memberauth.Authenticator, log *slog.Logger) (*Authorizer, error) {
	if auth == nil {
		return nil, errors.New("authorizer: a member authenticator is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Authorizer{auth: auth, log: log}, nil
}

// Authorize identifies the caller of ctx from its TLS client certificate
// and checks that it has the gateway role. Errors wrap ErrUnauthenticated,
// ErrPermissionDenied or memberauth.ErrRoleLookup (the registry could not
// be read), which Status maps.
func (a *Authorizer) Authorize(ctx context.Context) (Caller, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Caller{}, fmt.Errorf("%w: no peer", ErrUnauthenticated)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Caller{}, fmt.Errorf("%w: not a TLS connection", ErrUnauthenticated)
	}
	m, err := a.auth.Verify(info.State.PeerCertificates)
	if err != nil {
		return Caller{}, err
	}
	c := Caller{MSPID: m.MSPID, CertHash: m.CertHash}
	id, err := a.auth.Roles(ctx, m)
	if err != nil {
		return c, err
	}
	if !id.Has(records.RoleGateway) {
		a.log.Debug("refused a caller without the gateway role", "caller", c.String())
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
