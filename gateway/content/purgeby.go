package content

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/dct-network/dct/chaincode/records"
)

type surrogateKeysKey struct{}

// WithSurrogateKeys returns ctx carrying the surrogate keys a publish tags
// its version with (records.ValidateSurrogateKeys; Publish refuses invalid
// ones with ErrInvalid).
func WithSurrogateKeys(ctx context.Context, keys []string) context.Context {
	return context.WithValue(ctx, surrogateKeysKey{}, keys)
}

// SurrogateKeysFrom returns the keys WithSurrogateKeys put in ctx, or nil.
func SurrogateKeysFrom(ctx context.Context) []string {
	k, _ := ctx.Value(surrogateKeysKey{}).([]string)
	return k
}

// PurgeStats counts what purges did to this gateway's caches.
type PurgeStats struct {
	// Invalidations counts the versions a purge by key or soft purge
	// reached here (from this gateway's own purges and the ledger's
	// invalidate events).
	Invalidations int64 `json:"invalidations"`
	// Revalidations counts soft-purged manifests looked up again on the
	// ledger and found unchanged (their cached content kept).
	Revalidations int64 `json:"revalidations"`
}

type purgeCounters struct {
	invalidations, revalidations atomic.Int64
}

// PurgeStats returns the counters.
func (s *Service) PurgeStats() PurgeStats {
	return PurgeStats{Invalidations: s.purges.invalidations.Load(), Revalidations: s.purges.revalidations.Load()}
}

// PurgedBy is the outcome of a purge by key or soft purge by name.
type PurgedBy struct {
	Record        *records.PurgeRecord
	ShardsDeleted int
	DeleteErrors  []string
}

// PurgeBy records a purge by surrogate key (hard or soft) or a soft purge
// by name on the ledger, applies it to this gateway's caches at once (the
// other gateways apply it from the ledger's invalidate event) and, for a
// hard purge, deletes the shards of every version it tombstoned.
func (s *Service) PurgeBy(ctx context.Context, req records.PurgeRequest) (*PurgedBy, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	rec, err := s.ledger.PurgeBy(ctx, req)
	if err != nil {
		return nil, ledgerErr(err)
	}
	s.invalidate(rec.Mode, rec.Targets)
	out := &PurgedBy{Record: rec}
	if rec.Mode != records.PurgeHard {
		return out, nil
	}
	for _, t := range rec.Targets {
		name, version := splitTarget(t)
		m, err := s.ledger.GetManifest(ctx, name, version)
		if err != nil {
			out.DeleteErrors = append(out.DeleteErrors, fmt.Sprintf("%s: %v", t, ledgerErr(err)))
			continue
		}
		n, errs := s.deleteShards(ctx, m)
		out.ShardsDeleted += n
		out.DeleteErrors = append(out.DeleteErrors, errs...)
	}
	return out, nil
}

// invalidate applies a purge to the caches: every target's manifest and
// its object's latest manifest are dropped (hard) or marked stale (soft,
// revalidated against the ledger by the next lookup); a hard purge also
// drops the decoded content.
func (s *Service) invalidate(mode records.PurgeMode, targets []string) {
	for _, t := range targets {
		name, _ := splitTarget(t)
		if mode == records.PurgeHard {
			s.manifests.drop(name + "@")
			s.manifests.drop(t)
			s.objects.remove(t)
		} else {
			s.manifests.markStale(name + "@")
			s.manifests.markStale(t)
		}
		s.purges.invalidations.Add(1)
	}
}

// splitTarget splits "name@version" ('@' cannot occur in names).
func splitTarget(t string) (name, version string) {
	i := strings.LastIndexByte(t, '@')
	if i < 0 {
		return t, ""
	}
	return t[:i], t[i+1:]
}
