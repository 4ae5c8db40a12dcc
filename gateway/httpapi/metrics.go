package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"
)

// instrument records every answered request of a gin router in
// cfg.Metrics: route, method, status, duration and body bytes. It runs
// first, so the time includes every other middleware; a stream aborted
// mid-way is recorded with the status it started with.
func (h *handler) instrument(c *gin.Context) {
	start := time.Now()
	defer func() {
		var in int64
		if c.Request.Method == "PUT" || c.Request.Method == "POST" {
			in = max(c.Request.ContentLength, 0)
		}
		h.cfg.Metrics.Request(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start), in, int64(max(c.Writer.Size(), 0)))
	}()
	c.Next()
}
