package content

import (
	"context"
	"errors"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// ManifestEvents is the ledger's stream of committed manifest changes
// (*ledger.Client): the channel closes when the stream breaks, and
// ledger.ResumeAfter continues after the last event handled.
type ManifestEvents interface {
	ManifestEvents(ctx context.Context, opts ...ledger.EventsOption) (<-chan ledger.ManifestEvent, error)
}

// WatchConfig tunes Watch: the wait before resubscribing after the stream
// broke doubles from MinBackoff up to MaxBackoff, and is back at
// MinBackoff once a stream lasted StableAfter.
type WatchConfig struct {
	MinBackoff, MaxBackoff, StableAfter time.Duration
}

// DefaultWatchConfig returns the defaults.
func DefaultWatchConfig() WatchConfig {
	return WatchConfig{MinBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, StableAfter: 10 * time.Second}
}

// Watch keeps the manifest cache in step with the ledger until ctx ends:
// every committed manifest change (a new version, a purge, new shard
// holders) drops the cached manifests it makes stale as soon as the event
// arrives, and a latest manifest that readers use is fetched again at
// once, so that `latest` answers show a new version within the event's
// delay rather than the polling TTL. While the stream is live, cached
// manifests live for ManifestLiveTTL; when it breaks, Watch logs it, falls
// back to ManifestTTL and resubscribes with backoff, resuming after the
// last event it handled.
func (s *Service) Watch(ctx context.Context, src ManifestEvents, cfg WatchConfig) {
	if cfg.MinBackoff <= 0 {
		cfg = DefaultWatchConfig()
	}
	var cp ledger.Checkpoint
	backoff := cfg.MinBackoff
	for ctx.Err() == nil {
		events, err := src.ManifestEvents(ctx, ledger.ResumeAfter(cp))
		if err == nil {
			s.manifests.setLive(true)
			s.log.Info("following the ledger's manifest events", "from", cp.String())
			start := time.Now()
			for ev := range events {
				s.ManifestChanged(ctx, ev.ManifestEvent)
				cp = ev.After()
			}
			s.manifests.setLive(false)
			if ctx.Err() != nil {
				return
			}
			if time.Since(start) >= cfg.StableAfter {
				backoff = cfg.MinBackoff
			}
			s.log.Warn("manifest event stream ended; falling back to polling the ledger every manifest TTL until it is back",
				"ttl", s.cfg.ManifestTTL, "retryIn", backoff, "resumeAt", cp.String())
		} else {
			s.log.Warn("manifest events unavailable; polling the ledger every manifest TTL until they are back",
				"ttl", s.cfg.ManifestTTL, "retryIn", backoff, "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, cfg.MaxBackoff)
	}
}

// EventsLive reports whether Watch follows the manifest events now.
func (s *Service) EventsLive() bool { return s.manifests.isLive() }

// ManifestChanged drops what a committed manifest change makes stale: the
// latest manifest of the name, the changed version's manifest, and for a
// purge its decoded content. A latest manifest readers were using is
// fetched again in the background.
func (s *Service) ManifestChanged(ctx context.Context, ev records.ManifestEvent) {
	if ev.Kind == records.EventInvalidate {
		// A purge by key or soft purge: drop or mark stale every version
		// it reached (the content of a soft-purged one is kept).
		s.invalidate(ev.Mode, ev.Targets)
		s.log.Debug("manifests invalidated", "event", ev.String(), "tx", ev.TxID)
		return
	}
	latest := ev.Name + "@"
	used := s.manifests.cached(latest)
	s.manifests.drop(latest)
	s.manifests.drop(ev.Name + "@" + ev.Version)
	if ev.Kind == records.EventPurge {
		s.objects.remove(ev.Name + "@" + ev.Version)
	}
	s.log.Debug("manifest changed", "event", ev.String(), "tx", ev.TxID)
	if used {
		s.refreshLatest(ctx, ev.Name)
	}
}

// refreshLatest looks the latest manifest of name up again, in the
// background, one lookup per name at a time.
func (s *Service) refreshLatest(ctx context.Context, name string) {
	s.refreshMu.Lock()
	if s.refreshes[name] {
		s.refreshMu.Unlock()
		return
	}
	s.refreshes[name] = true
	s.refreshMu.Unlock()
	go func() {
		defer func() {
			s.refreshMu.Lock()
			delete(s.refreshes, name)
			s.refreshMu.Unlock()
		}()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := s.Manifest(cctx, name, ""); err != nil && !isGone(err) {
			s.log.Debug("refreshing a changed manifest", "object", name, "err", err)
		}
	}()
}

// isGone reports an object or version that no longer is (nothing to
// refresh).
func isGone(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, ErrPurged) }
