package httpapi

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/gin-gonic/gin"
)

// dashboardFiles are the dashboard page's assets: plain HTML, CSS and
// JavaScript, no external resource.
//
//go:embed dashboard/index.html dashboard/dashboard.css dashboard/dashboard.js
var dashboardFiles embed.FS

// dashboardCSP keeps the page to its own origin: no inline script, no
// third-party resource.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handler) dashboardRoutes(r *gin.Engine) {
	if h.cfg.Dashboard == nil {
		return
	}
	// GET /dashboard is redirected to /dashboard/ by gin (trailing slash).
	r.GET("/dashboard/*file", h.dashboardAsset)
	r.GET(api.DashboardDataPath, h.dashboardData)
}

func (h *handler) dashboardAsset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(dashboardFiles, path.Join("dashboard", path.Clean("/" + name)[1:]))
	if err != nil || strings.Contains(name, "/") {
		writeError(c, fmt.Errorf("%w: no such dashboard file: %s", content.ErrNotFound, name))
		return
	}
	ct := "text/html; charset=utf-8"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	}
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", dashboardCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-cache")
	c.Data(http.StatusOK, ct, b)
}

func (h *handler) dashboardData(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.cfg.Dashboard(c.Request.Context()))
}
