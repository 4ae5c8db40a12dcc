package httpapi

import (
	"fmt"
	"strings"
)

// IsFeed reports whether name is a live feed: it starts with one of the
// prefixes.
func IsFeed(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// cacheControl is the Cache-Control of an answer for object name: a
// versioned URL never changes; the unversioned URL of a feed is
// revalidated with its ETag every time (or kept FeedMaxAge), that of any
// other object is kept LatestMaxAge.
func (h *handler) cacheControl(name string, versioned bool) string {
	switch {
	case versioned:
		return "public, max-age=31536000, immutable"
	case IsFeed(name, h.cfg.FeedPrefixes):
		if s := int(h.cfg.FeedMaxAge.Seconds()); s > 0 {
			return fmt.Sprintf("public, max-age=%d", s)
		}
		return "public, no-cache"
	default:
		return fmt.Sprintf("public, max-age=%d", int(h.cfg.LatestMaxAge.Seconds()))
	}
}
