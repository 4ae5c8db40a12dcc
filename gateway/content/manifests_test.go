package content

import (
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

func TestManifestCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newCache := func() *manifestCache {
		c := newManifestCache(time.Second, time.Minute)
		c.now = func() time.Time { return now }
		return c
	}
	v1, v2 := &records.Manifest{Version: "1"}, &records.Manifest{Version: "2"}
	tests := []struct {
		name string
		run  func(c *manifestCache) (*records.Manifest, bool)
		want *records.Manifest // nil: a miss
	}{
		{"fresh within the ttl", func(c *manifestCache) (*records.Manifest, bool) {
			_, _, miss := c.get("a@")
			c.put("a@", v1, miss)
			now = now.Add(900 * time.Millisecond)
			m, ok, _ := c.get("a@")
			return m, ok
		}, v1},
		{"stale after the ttl without events", func(c *manifestCache) (*records.Manifest, bool) {
			_, _, miss := c.get("a@")
			c.put("a@", v1, miss)
			now = now.Add(2 * time.Second)
			m, ok, _ := c.get("a@")
			return m, ok
		}, nil},
		{"live events keep it for the live ttl", func(c *manifestCache) (*records.Manifest, bool) {
			c.setLive(true)
			now = now.Add(2 * time.Second) // past the grace
			_, _, miss := c.get("a@")
			c.put("a@", v1, miss)
			now = now.Add(30 * time.Second)
			m, ok, _ := c.get("a@")
			return m, ok
		}, v1},
		{"looked up within the grace: polling ttl", func(c *manifestCache) (*records.Manifest, bool) {
			c.setLive(true)
			_, _, miss := c.get("a@")
			c.put("a@", v1, miss)
			now = now.Add(2 * time.Second)
			m, ok, _ := c.get("a@")
			return m, ok
		}, nil},
		{"events stop: back to the polling ttl", func(c *manifestCache) (*records.Manifest, bool) {
			c.setLive(true)
			now = now.Add(2 * time.Second)
			_, _, miss := c.get("a@")
			c.put("a@", v1, miss)
			c.setLive(false)
			now = now.Add(2 * time.Second)
			m, ok, _ := c.get("a@")
			return m, ok
		}, nil},
		{"a drop during the lookup discards its answer", func(c *manifestCache) (*records.Manifest, bool) {
			_, _, miss := c.get("a@")
			c.drop("a@") // the event of v2 arrives while v1 is being read
			c.put("a@", v1, miss)
			m, ok, _ := c.get("a@")
			return m, ok
		}, nil},
		{"a lookup after the drop is kept", func(c *manifestCache) (*records.Manifest, bool) {
			_, _, miss := c.get("a@")
			c.put("a@", v1, miss)
			c.drop("a@")
			_, _, miss = c.get("a@")
			c.put("a@", v2, miss)
			m, ok, _ := c.get("a@")
			return m, ok
		}, v2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := tt.run(newCache())
			if tt.want == nil {
				if ok {
					t.Fatalf("hit %v, want a miss", m.Version)
				}
				return
			}
			if !ok || m != tt.want {
				t.Fatalf("got %v %v, want version %s", m, ok, tt.want.Version)
			}
		})
	}
}
