package content_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/content/contenttest"
)

var fastWatch = content.WatchConfig{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, StableAfter: time.Second}

// watching is a second gateway over the same ledger and agents as pub,
// following the manifest events with the given polling TTL.
func watching(t *testing.T, l *contenttest.Ledger, a *contenttest.Agents, ttl time.Duration) *content.Service {
	t.Helper()
	s, err := content.New(testConfig(func(c *content.Config) { c.ManifestTTL = ttl; c.ManifestLiveTTL = time.Hour }), l.AsMSP("Org2MSP"), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go s.Watch(ctx, l, fastWatch)
	waitFor(t, "the watcher to be live", s.EventsLive)
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// latestIs waits until s serves version as name's latest.
func latestIs(t *testing.T, s *content.Service, name, version string) {
	t.Helper()
	waitFor(t, name+"@"+version+" as latest", func() bool {
		m, err := s.Manifest(context.Background(), name, "")
		return err == nil && m.Version == version
	})
}

// TestWatchShowsNewVersions: with an hour-long TTL, only the manifest
// events can make another gateway see a new version, a purge and new
// holders.
func TestWatchShowsNewVersions(t *testing.T) {
	pub, l, a := newTestService(t, 6, nil)
	s := watching(t, l, a, time.Hour)
	body := payload(3000)
	publishWith(t, pub, "feeds/q.json", body)
	latestIs(t, s, "feeds/q.json", "1")
	for v := 2; v <= 5; v++ {
		publishWith(t, pub, "feeds/q.json", payload(3000+v))
		latestIs(t, s, "feeds/q.json", string(rune('0'+v)))
	}
	// Cached content of a purged version is no longer served.
	m1, err := s.Manifest(context.Background(), "feeds/q.json", "5")
	if err != nil {
		t.Fatal(err)
	}
	readBack(t, s, m1, payload(3005))
	if _, err := pub.Purge(context.Background(), "feeds/q.json", "5", "wrong quote"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the purge", func() bool {
		_, err := s.Manifest(context.Background(), "feeds/q.json", "5")
		return errors.Is(err, content.ErrPurged)
	})
	latestIs(t, s, "feeds/q.json", "4")
}

// TestWatchFallsBackAndResumes: while the stream is broken the gateway
// polls with the manifest TTL; back, it resumes after the last event, so
// a change made while it was away is not missed even with a long TTL.
func TestWatchFallsBackAndResumes(t *testing.T) {
	t.Run("polls while broken", func(t *testing.T) {
		pub, l, a := newTestService(t, 6, nil)
		s := watching(t, l, a, 50*time.Millisecond)
		publishWith(t, pub, "f", payload(100))
		latestIs(t, s, "f", "1")
		l.BreakEvents(1 << 30) // never back
		waitFor(t, "the watcher to notice", func() bool { return !s.EventsLive() })
		publishWith(t, pub, "f", payload(101))
		latestIs(t, s, "f", "2")
	})
	t.Run("resumes after the last event", func(t *testing.T) {
		pub, l, a := newTestService(t, 6, nil)
		s := watching(t, l, a, time.Hour)
		publishWith(t, pub, "f", payload(100))
		latestIs(t, s, "f", "1")
		l.BreakEvents(3)
		publishWith(t, pub, "f", payload(101))
		latestIs(t, s, "f", "2")
		waitFor(t, "the watcher to be back", s.EventsLive)
		publishWith(t, pub, "f", payload(102))
		latestIs(t, s, "f", "3")
	})
}
