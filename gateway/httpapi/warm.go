package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/metrics"
)

// The warm path: a GET or HEAD of /cdn/ whose manifest and decoded bytes
// are both cached (content.Service.Warm) is answered before gin's router
// and middleware, with header values computed once per cached manifest.
// It sends the same headers as serve (ETag, X-DCT-Version, Accept-Ranges,
// X-Content-Type-Options, Cache-Control, Last-Modified, Surrogate-Key, Content-Type,
// Content-Length, CORS, X-Request-Id) and answers If-None-Match with 304.
// Everything else (ranges, If-Range, misses, purged versions, errors)
// takes the full path.

// Canonical header keys, so that the answer's header map is written
// without canonicalising every key per request.
var (
	hETag          = http.CanonicalHeaderKey("ETag")
	hVersion       = http.CanonicalHeaderKey("X-DCT-Version")
	hAcceptRanges  = http.CanonicalHeaderKey("Accept-Ranges")
	hNoSniff       = http.CanonicalHeaderKey("X-Content-Type-Options")
	hCacheControl  = http.CanonicalHeaderKey("Cache-Control")
	hLastModified  = http.CanonicalHeaderKey("Last-Modified")
	hContentType   = http.CanonicalHeaderKey("Content-Type")
	hContentLength = http.CanonicalHeaderKey("Content-Length")
	hRequestID     = http.CanonicalHeaderKey(api.RequestIDHeader)
	hAllowOrigin   = http.CanonicalHeaderKey("Access-Control-Allow-Origin")
	hExposeHeaders = http.CanonicalHeaderKey("Access-Control-Expose-Headers")
	hTimingOrigin  = http.CanonicalHeaderKey("Timing-Allow-Origin")
	hIfNoneMatch   = http.CanonicalHeaderKey("If-None-Match")
	hRange         = http.CanonicalHeaderKey("Range")
	hIfRange       = http.CanonicalHeaderKey("If-Range")
	hSurrogateKey  = http.CanonicalHeaderKey(api.SurrogateKeyHeader)

	valBytes   = []string{"bytes"}
	valNoSniff = []string{"nosniff"}
)

// exposeHeaders are the headers CORS lets a portal's scripts read.
const exposeHeaders = "ETag, Content-Length, Content-Range, Accept-Ranges, X-DCT-Version"

// maxWarmHeaders bounds the precomputed header sets; past it the table
// starts over (the cached objects are bounded by the cache's bytes, this
// by entries).
const maxWarmHeaders = 4096

// warmHeaders are a cached manifest's header values, each a one-element
// slice shared by every answer: net/http only reads them, and an Add to
// one copies it (its capacity is 1).
type warmHeaders struct {
	etag, version, lastModified, contentType, length []string
	versioned, latest                                []string // Cache-Control
	surrogate                                        []string // Surrogate-Key, nil when none
	etagValue                                        string
}

// warmServer answers warm hits and passes everything else to next.
type warmServer struct {
	h    *handler
	next http.Handler
	cors bool // AllowOrigin is "*": the CORS values are fixed
	// metrics records warm answers (nil: none; its methods accept nil).
	metrics *metrics.Gateway

	allowOrigin, expose []string

	mu      sync.RWMutex
	headers map[*records.Manifest]*warmHeaders
}

func newWarmServer(h *handler, next http.Handler) *warmServer {
	w := &warmServer{h: h, next: next, headers: map[*records.Manifest]*warmHeaders{}, metrics: h.cfg.Metrics}
	switch h.cfg.AllowOrigin {
	case "":
		w.cors = true // nothing to set
	case "*":
		w.cors = true
		w.allowOrigin, w.expose = []string{"*"}, []string{exposeHeaders}
	}
	return w
}

func (ws *warmServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !ws.cors || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.HasPrefix(r.URL.Path, "/cdn/") {
		ws.next.ServeHTTP(w, r)
		return
	}
	rh := r.Header
	if len(rh[hRange]) != 0 || len(rh[hIfRange]) != 0 {
		ws.next.ServeHTTP(w, r)
		return
	}
	p := r.URL.Path[len("/cdn/"):]
	versioned := strings.IndexByte(p, '@') >= 0
	key := p
	if !versioned {
		key = p + "@"
	}
	var start time.Time
	if ws.metrics != nil {
		start = time.Now()
	}
	m, b, ok := ws.h.svc.Warm(key)
	if !ok {
		ws.next.ServeHTTP(w, r)
		return
	}
	wh := ws.headersOf(m)
	hd := w.Header()
	hd[hRequestID] = []string{newRequestID()}
	if ws.allowOrigin != nil {
		hd[hAllowOrigin] = ws.allowOrigin
		hd[hExposeHeaders] = ws.expose
		hd[hTimingOrigin] = ws.allowOrigin
	}
	hd[hETag] = wh.etag
	hd[hVersion] = wh.version
	hd[hAcceptRanges] = valBytes
	hd[hNoSniff] = valNoSniff
	if versioned {
		hd[hCacheControl] = wh.versioned
	} else {
		hd[hCacheControl] = wh.latest
	}
	if wh.lastModified != nil {
		hd[hLastModified] = wh.lastModified
	}
	if wh.surrogate != nil {
		hd[hSurrogateKey] = wh.surrogate
	}
	if inm := rh[hIfNoneMatch]; len(inm) != 0 && etagMatches(strings.Join(inm, ","), wh.etagValue) {
		w.WriteHeader(http.StatusNotModified)
		if ws.metrics != nil {
			ws.metrics.ServeWarm(false, true, time.Since(start), 0)
		}
		return
	}
	hd[hContentType] = wh.contentType
	hd[hContentLength] = wh.length
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		if ws.metrics != nil {
			ws.metrics.ServeWarm(true, false, time.Since(start), 0)
		}
		return
	}
	n, _ := w.Write(b) // a client gone away is not the gateway's error
	if ws.metrics != nil {
		ws.metrics.ServeWarm(false, false, time.Since(start), n)
	}
}

// headersOf returns m's precomputed header values.
func (ws *warmServer) headersOf(m *records.Manifest) *warmHeaders {
	ws.mu.RLock()
	wh := ws.headers[m]
	ws.mu.RUnlock()
	if wh != nil {
		return wh
	}
	etag := `"` + m.SHA256 + `"`
	wh = &warmHeaders{
		etag:        []string{etag},
		etagValue:   etag,
		version:     []string{m.Version},
		contentType: []string{content.ContentType(m.Name, m.ContentType)},
		length:      []string{strconv.FormatInt(m.Size, 10)},
		versioned:   []string{ws.h.cacheControl(m.Name, true)},
		latest:      []string{ws.h.cacheControl(m.Name, false)},
	}
	if t, err := time.Parse(time.RFC3339Nano, m.CreatedAt); err == nil {
		wh.lastModified = []string{t.UTC().Format(http.TimeFormat)}
	}
	if len(m.Keys) > 0 {
		wh.surrogate = []string{strings.Join(m.Keys, " ")}
	}
	ws.mu.Lock()
	if len(ws.headers) >= maxWarmHeaders {
		clear(ws.headers)
	}
	ws.headers[m] = wh
	ws.mu.Unlock()
	return wh
}
