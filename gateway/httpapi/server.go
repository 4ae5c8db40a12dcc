package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/gin-gonic/gin"
)

// Config tunes the HTTP interface.
type Config struct {
	// AllowOrigin is the CORS Access-Control-Allow-Origin of served assets.
	AllowOrigin string
	// RequestTimeout bounds metadata requests, and a serve request until
	// its answer starts (manifest and first segment): a stream then goes on
	// as long as the client reads (WriteTimeout) and the agents answer
	// (each call bounded by the content service's AgentTimeout).
	// PublishTimeout bounds uploads, reading the body included.
	RequestTimeout, PublishTimeout time.Duration
	// WriteTimeout bounds each write of an answer: every segment of a
	// stream gets a fresh write deadline, so a long stream to a client that
	// keeps reading is not cut, while a client that stops reading is
	// dropped (0: the server's deadline only).
	WriteTimeout time.Duration
	// LatestMaxAge is the Cache-Control max-age of unversioned URLs.
	LatestMaxAge time.Duration
	// FeedPrefixes name the live feeds (see IsFeed): their unversioned
	// URLs get FeedMaxAge instead, 0 meaning "no-cache" (store, but
	// revalidate with the ETag before every use).
	FeedPrefixes []string
	FeedMaxAge   time.Duration
	// Mesh, when set, gives the operators' view served at GET /v1/mesh:
	// the gossip members with health and RTT estimates, the shard-fetch
	// counters per node and the repairs done; measure asks for measured
	// round trips to every member beside the estimates (?measure=1).
	Mesh func(ctx context.Context, measure bool) any
	// AdminURL is the admin listener's base URL, named in the answer to a
	// write sent to the public listener ("" = none configured).
	AdminURL string
	// Gateways, when set, lists the consortium's gateways this one knows
	// for GET /v1/gateways: its own public base URL ("" = none) and every
	// known one, its own first.
	Gateways func() (self string, all []string)
	// Metrics, when set, records every request (route, method, status,
	// duration, bytes); see package metrics.
	Metrics *metrics.Gateway
	// Dashboard, when set, is the live operations view served as JSON at
	// GET /v1/dashboard, which the page at GET /dashboard/ polls.
	Dashboard func(ctx context.Context) api.DashboardView
}

// serveRoute is the CDN serve path.
const serveRoute = "/cdn/*path"

// Ready reports whether the gateway can serve (ledger reachable).
type Ready func(ctx context.Context) error

// New returns the gateway's HTTP handler.
func New(svc *content.Service, cfg Config, ready Ready, log *slog.Logger) http.Handler {
	r, h := newPublic(svc, cfg, ready, log)
	return newWarmServer(h, r)
}

// newPublic returns the public listener's router (New puts the warm path
// in front of it) and its handler.
func newPublic(svc *content.Service, cfg Config, ready Ready, log *slog.Logger) (*gin.Engine, *handler) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	h := &handler{svc: svc, cfg: cfg, log: log, ready: ready}
	// Everything on the public listener is public content: CORS lets
	// portals on any origin (and the loader on another gateway) read it.
	if cfg.Metrics != nil {
		r.Use(h.instrument)
	}
	r.Use(h.requestID, h.cors, h.recover, h.timeout)
	r.GET("/healthz", h.healthz)
	r.GET(api.OpenAPIPath, h.openAPI)
	h.dashboardRoutes(r)
	r.GET("/v1/mesh", h.mesh)
	r.GET("/v1/gateways", h.gateways)
	r.GET("/v1/loader", h.loaderInfo)
	r.GET(api.LoaderPath, h.loader)
	r.HEAD(api.LoaderPath, h.loader)
	r.GET("/v1/nodes", h.nodes)
	r.GET("/v1/objects", h.list)
	r.GET("/v1/objects/*name", h.metadata)
	// Writes are served on the admin listener only (NewAdmin).
	r.PUT("/v1/objects/*name", h.writeOnAdmin)
	r.DELETE("/v1/objects/*name", h.writeOnAdmin)
	r.POST(api.PurgePath, h.writeOnAdmin)
	r.GET(serveRoute, h.serve)
	r.HEAD(serveRoute, h.serve)
	r.OPTIONS(serveRoute, h.preflight)
	r.NoRoute(func(c *gin.Context) {
		writeError(c, fmt.Errorf("%w: no such endpoint: %s", content.ErrNotFound, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, fmt.Errorf("%w: %s is not allowed on %s", errMethodNotAllowed, c.Request.Method, c.Request.URL.Path))
	})
	return r, h
}

type handler struct {
	svc   *content.Service
	cfg   Config
	log   *slog.Logger
	ready Ready
}

// requestID names every request (X-Request-Id) and gives it a logger
// carrying that id, under which writeError logs the whole error.
func (h *handler) requestID(c *gin.Context) {
	id := newRequestID()
	c.Header(api.RequestIDHeader, id)
	c.Set(requestIDKey, id)
	c.Set(requestLogKey, h.log) // requestLog adds the id when it logs
	// Delivery receipts name the request they served.
	c.Request = c.Request.WithContext(content.WithRequestID(c.Request.Context(), id))
	c.Next()
}

func (h *handler) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", v)
			writeError(c, errors.New("internal error"))
		}
	}()
	c.Next()
}

func (h *handler) timeout(c *gin.Context) {
	if c.FullPath() == serveRoute && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		c.Next() // serve bounds its answer's start itself
		return
	}
	d := h.cfg.RequestTimeout
	if c.Request.Method == http.MethodPut {
		d = h.cfg.PublishTimeout
	}
	if d > 0 {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
	}
	c.Next()
}

func (h *handler) mesh(c *gin.Context) {
	out := gin.H{"fetches": h.svc.FetchStats(), "purges": h.svc.PurgeStats()}
	if h.cfg.Mesh != nil {
		out["mesh"] = h.cfg.Mesh(c.Request.Context(), c.Query("measure") == "1")
	}
	c.JSON(http.StatusOK, out)
}

func (h *handler) healthz(c *gin.Context) {
	if h.ready != nil {
		if err := h.ready(c.Request.Context()); err != nil {
			writeError(c, fmt.Errorf("%w: %w", content.ErrLedger, err))
			return
		}
	}
	events := "polling"
	if h.svc.EventsLive() {
		events = "live"
	}
	c.JSON(http.StatusOK, api.HealthResponse{Status: "ok", CachedBytes: h.svc.CachedBytes(), ManifestEvents: events})
}

func objectName(c *gin.Context, param string) string {
	return strings.TrimPrefix(c.Param(param), "/")
}

func (h *handler) publish(c *gin.Context) {
	name := objectName(c, "name")
	if c.Request.ContentLength < 0 {
		writeError(c, fmt.Errorf("%w: send the object with a Content-Length header", errLengthRequired))
		return
	}
	// The server's read and write deadlines are for ordinary requests: an
	// upload may take PublishTimeout, and its answer gets WriteTimeout after
	// that (unsupported writers, as in tests, keep their deadlines).
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(h.cfg.PublishTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.PublishTimeout + h.cfg.WriteTimeout))
	keys, err := surrogateKeys(c.GetHeader(api.SurrogateKeyHeader))
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	if len(keys) > 0 {
		ctx = content.WithSurrogateKeys(ctx, keys)
	}
	pub, err := h.svc.Publish(ctx, name, c.GetHeader("Content-Type"), c.Request.ContentLength, c.Request.Body)
	if err != nil {
		writeError(c, err)
		return
	}
	h.log.Info("published", "object", pub.Manifest.String(), "size", pub.Manifest.Size, "tx", pub.Manifest.TxID)
	c.Header("Location", api.CDNURL(pub.Manifest.Name, pub.Manifest.Version))
	c.JSON(http.StatusCreated, api.NewPublishResponse(pub.Manifest))
}

// writeOnAdmin answers a write sent to the public listener: 405, naming
// the admin listener.
func (h *handler) writeOnAdmin(c *gin.Context) {
	where := "the gateway's admin listener (--admin-listen)"
	if h.cfg.AdminURL != "" {
		where = "the gateway's admin listener at " + h.cfg.AdminURL
	}
	c.Header("Allow", "GET, HEAD")
	writeError(c, fmt.Errorf("%w: %s is not served on the public listener: publish and purge go to %s, over HTTPS with the client certificate of a publisher of the gateway's organisation",
		errMethodNotAllowed, c.Request.Method, where))
}

// nodes is the ledger's node registry as the gateway reads it (cached
// for the content service's NodesTTL).
func (h *handler) nodes(c *gin.Context) {
	nodes, err := h.svc.Nodes(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, api.NodesResponse{Nodes: nodes})
}

func (h *handler) list(c *gin.Context) {
	objs, err := h.svc.List(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, api.ListResponse{Objects: objs})
}

func (h *handler) metadata(c *gin.Context) {
	name := objectName(c, "name")
	ctx := c.Request.Context()
	if v := c.Query("version"); v != "" {
		m, err := h.svc.Manifest(ctx, name, v)
		if err != nil && !errors.Is(err, content.ErrPurged) {
			writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, m)
		return
	}
	head, err := h.svc.Object(ctx, name)
	if err != nil {
		writeError(c, err)
		return
	}
	versions, err := h.svc.Versions(ctx, name)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, api.ObjectResponse{Object: head, Versions: versions})
}

func (h *handler) purge(c *gin.Context) {
	name := objectName(c, "name")
	reason := c.Query("reason")
	if reason == "" {
		writeError(c, fmt.Errorf("%w: a purge needs a reason: ?reason=…", content.ErrInvalid))
		return
	}
	switch mode := c.Query("mode"); mode {
	case "", string(records.PurgeHard):
	case string(records.PurgeSoft):
		h.purgeBy(c, records.PurgeRequest{Name: name, Version: c.Query("version"), Mode: records.PurgeSoft, Reason: reason})
		return
	default:
		writeError(c, fmt.Errorf("%w: mode %q: want hard (the default) or soft", content.ErrInvalid, mode))
		return
	}
	out, err := h.svc.Purge(c.Request.Context(), name, c.Query("version"), reason)
	if err != nil {
		writeError(c, err)
		return
	}
	h.log.Info("purged", "object", out.Manifest.String(), "shards deleted", out.ShardsDeleted, "errors", len(out.DeleteErrors))
	c.JSON(http.StatusOK, api.PurgeResponse{Manifest: out.Manifest, ShardsDeleted: out.ShardsDeleted, DeleteErrors: out.DeleteErrors})
}

// maxSurrogateHeader bounds the Surrogate-Key header of a publish.
const maxSurrogateHeader = records.MaxSurrogateKeys * 65

// surrogateKeys parses a publish's Surrogate-Key header (keys separated by
// spaces); malformed, too long or too many keys are ErrInvalid.
func surrogateKeys(header string) ([]string, error) {
	if len(header) > maxSurrogateHeader {
		return nil, fmt.Errorf("%w: the %s header is %d bytes, at most %d (%d keys of up to 64 characters)",
			content.ErrInvalid, api.SurrogateKeyHeader, len(header), maxSurrogateHeader, records.MaxSurrogateKeys)
	}
	keys, err := records.ParseSurrogateKeys(header)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %w", content.ErrInvalid, api.SurrogateKeyHeader, err)
	}
	return keys, nil
}

// purgeBy is a purge by surrogate key (hard or soft) or a soft purge by
// name: the request's JSON body (records.PurgeRequest) or, for a soft
// purge by name, DELETE /v1/objects/{name}?mode=soft.
func (h *handler) purgeBy(c *gin.Context, req records.PurgeRequest) {
	out, err := h.svc.PurgeBy(c.Request.Context(), req)
	if err != nil {
		writeError(c, err)
		return
	}
	h.log.Info("purged by", "request", req.String(), "versions", len(out.Record.Targets), "tx", out.Record.TxID,
		"shards deleted", out.ShardsDeleted, "errors", len(out.DeleteErrors))
	c.JSON(http.StatusOK, api.PurgeByResponse{Purge: out.Record, ShardsDeleted: out.ShardsDeleted, DeleteErrors: out.DeleteErrors})
}

// cors sets the CORS headers of every answer of the public listener.
func (h *handler) cors(c *gin.Context) {
	h.setCORS(c)
	c.Next()
}

func (h *handler) setCORS(c *gin.Context) {
	if h.cfg.AllowOrigin == "" {
		return
	}
	hd := c.Writer.Header()
	hd.Set("Access-Control-Allow-Origin", h.cfg.AllowOrigin)
	hd.Set("Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range, Accept-Ranges, X-DCT-Version")
	hd.Set("Timing-Allow-Origin", h.cfg.AllowOrigin)
	if h.cfg.AllowOrigin != "*" {
		hd.Add("Vary", "Origin")
	}
}

func (h *handler) preflight(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Range, If-None-Match, If-Range")
	hd.Set("Access-Control-Max-Age", "86400")
	c.Status(http.StatusNoContent)
}

// splitVersion splits "name@version"; '@' cannot occur in object names.
func splitVersion(p string) (name, version string) {
	if i := strings.LastIndexByte(p, '@'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, ""
}

func (h *handler) serve(c *gin.Context) {
	name, version := splitVersion(objectName(c, "path"))
	versioned := version != ""
	// RequestTimeout bounds the answer's start only (see Config).
	ctx, cancel := context.WithCancelCause(c.Request.Context())
	defer cancel(nil)
	stopTimer := func() bool { return false }
	if h.cfg.RequestTimeout > 0 {
		stopTimer = time.AfterFunc(h.cfg.RequestTimeout, func() { cancel(context.DeadlineExceeded) }).Stop
	}
	defer stopTimer()
	m, err := h.svc.Manifest(ctx, name, version)
	if err != nil {
		writeError(c, err)
		return
	}
	etag := `"` + m.SHA256 + `"`
	hd := c.Writer.Header()
	hd.Set("ETag", etag)
	hd.Set("X-DCT-Version", m.Version)
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", h.cacheControl(m.Name, versioned))
	if len(m.Keys) > 0 {
		hd.Set(api.SurrogateKeyHeader, strings.Join(m.Keys, " "))
	}
	if t, err := time.Parse(time.RFC3339Nano, m.CreatedAt); err == nil {
		hd.Set("Last-Modified", t.UTC().Format(http.TimeFormat))
	}
	if inm := c.GetHeader("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", content.ContentType(m.Name, m.ContentType))

	off, n, partial := int64(0), m.Size, false
	if rh := c.GetHeader("Range"); rh != "" && ifRangeHolds(c.GetHeader("If-Range"), etag, hd.Get("Last-Modified")) {
		start, length, ok, satisfiable := parseRange(rh, m.Size)
		if ok && !satisfiable {
			hd.Set("Content-Range", fmt.Sprintf("bytes */%d", m.Size))
			writeError(c, fmt.Errorf("%w: range %q is outside the %d bytes of %s", errRangeNotSatisfiable, rh, m.Size, m))
			return
		}
		if ok {
			off, n, partial = start, length, true
			hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, m.Size))
		}
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
	}
	hd.Set("Content-Length", strconv.FormatInt(n, 10))
	if c.Request.Method == http.MethodHead {
		c.Status(status)
		return
	}
	// Whole or ranged, small or large: the content service writes segment
	// by segment (bounded memory); each write gets a fresh deadline.
	rc := http.NewResponseController(c.Writer)
	cw := &countingWriter{w: c.Writer, before: func() {
		stopTimer()
		c.Status(status)
	}, each: func() {
		if h.cfg.WriteTimeout > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		}
	}}
	if err := h.svc.WriteRange(ctx, m, off, n, cw); err != nil {
		if cw.n == 0 {
			if errors.Is(context.Cause(ctx), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
			}
			hd.Del("Content-Length")
			hd.Del("Content-Range")
			writeError(c, err)
			return
		}
		_, log := requestLog(c)
		if cw.err != nil {
			log.Debug("client stopped reading mid-stream", "object", m.String(), "sent", cw.n, "err", err)
		} else {
			log.Error("aborting a response mid-stream", "object", m.String(), "sent", cw.n, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	if cw.n == 0 {
		c.Status(status)
	}
}

// countingWriter counts what was written; before runs ahead of the first
// write, each ahead of every write.
type countingWriter struct {
	w      io.Writer
	n      int64
	err    error // the first write error: the client went away or stalled
	before func()
	each   func()
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.before != nil {
		c.before()
		c.before = nil
	}
	if c.each != nil {
		c.each()
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
