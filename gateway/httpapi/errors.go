package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/receipts"
	"github.com/gin-gonic/gin"
)

// Errors of the HTTP layer itself; the content package's errors cover the
// rest.
var (
	// errLengthRequired: a publish without Content-Length.
	errLengthRequired = errors.New("length required")
	// errRangeNotSatisfiable: a well-formed Range outside the object.
	errRangeNotSatisfiable = errors.New("range not satisfiable")
	// errMethodNotAllowed: a known path with another method.
	errMethodNotAllowed = errors.New("method not allowed")
	// errRateLimited: an identity over its admin API rate.
	errRateLimited = errors.New("rate limited")
)

// statusOf maps an error to an HTTP status and stable code: the one place
// where that mapping lives.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, memberauth.ErrUnauthenticated):
		return http.StatusUnauthorized, api.CodeUnauthenticated
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests, api.CodeRateLimited
	case errors.Is(err, content.ErrInvalid):
		return http.StatusBadRequest, api.CodeInvalid
	case errors.Is(err, errLengthRequired):
		return http.StatusLengthRequired, api.CodeLengthRequired
	case errors.Is(err, content.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, api.CodeTooLarge
	case errors.Is(err, content.ErrNotFound):
		return http.StatusNotFound, api.CodeNotFound
	case errors.Is(err, content.ErrPurged):
		return http.StatusGone, api.CodePurged
	case errors.Is(err, content.ErrForbidden):
		return http.StatusForbidden, api.CodeForbidden
	case errors.Is(err, content.ErrConflict):
		return http.StatusConflict, api.CodeConflict
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, api.CodeMethodNotAllowed
	case errors.Is(err, errRangeNotSatisfiable):
		return http.StatusRequestedRangeNotSatisfiable, api.CodeRangeNotSatisfied
	case errors.Is(err, content.ErrNoPlacement):
		return http.StatusServiceUnavailable, api.CodeNoPlacement
	case errors.Is(err, content.ErrShardsUnavailable):
		return http.StatusServiceUnavailable, api.CodeShardsUnavailable
	case errors.Is(err, content.ErrOverloaded):
		return http.StatusServiceUnavailable, api.CodeOverloaded
	case errors.Is(err, content.ErrUpload):
		return http.StatusBadGateway, api.CodeUploadFailed
	case errors.Is(err, content.ErrCorrupt):
		return http.StatusBadGateway, api.CodeCorrupt
	case errors.Is(err, content.ErrUnknownKey):
		return http.StatusServiceUnavailable, api.CodeUnknownKey
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, api.CodeTimeout
	case errors.Is(err, content.ErrLedger):
		return http.StatusServiceUnavailable, api.CodeLedgerUnavailable
	// The chaincode's answers to the audit reads, and the receipt log.
	case errors.Is(err, records.ErrForbidden):
		return http.StatusForbidden, api.CodeForbidden
	case errors.Is(err, records.ErrNotFound), errors.Is(err, receipts.ErrNotInLog):
		return http.StatusNotFound, api.CodeNotFound
	case errors.Is(err, records.ErrInvalid):
		return http.StatusBadRequest, api.CodeInvalid
	default:
		return http.StatusInternalServerError, api.CodeInternal
	}
}

// publicMessages are the messages anonymous clients get, one per code:
// they name nothing inside the system (no node, shard holder, gRPC, ledger
// or file-system detail); the whole error is in the log under the
// request's id.
var publicMessages = map[string]string{
	api.CodeInvalid:           "the request is invalid",
	api.CodeForbidden:         "the request is not allowed",
	api.CodeNotFound:          "no such object, version or endpoint",
	api.CodeMethodNotAllowed:  "the method is not allowed on this path",
	api.CodeConflict:          "the request conflicts with the object's state",
	api.CodePurged:            "this version of the object was purged",
	api.CodeLengthRequired:    "a Content-Length is required",
	api.CodeTooLarge:          "the object is too large",
	api.CodeRangeNotSatisfied: "the range is outside the object",
	api.CodeInternal:          "internal error",
	api.CodeUploadFailed:      "storing the object failed",
	api.CodeCorrupt:           "the content failed verification; try again later",
	api.CodeNoPlacement:       "too few storage nodes are available",
	api.CodeShardsUnavailable: "the content is temporarily unavailable; try again later",
	api.CodeLedgerUnavailable: "the ledger is temporarily unavailable; try again later",
	api.CodeOverloaded:        "the gateway is busy; retry after the Retry-After delay",
	api.CodeUnknownKey:        "this gateway does not hold the key the object is encrypted under",
	api.CodeUnauthenticated:   "present the client certificate of a member's identity",
	api.CodeRateLimited:       "too many requests; retry after the Retry-After delay",
	api.CodeTimeout:           "the request timed out",
}

// retryAfter is the Retry-After of OVERLOADED answers, in seconds.
const retryAfter = "1"

// anonymous reports whether the request is one of the reads anyone may
// send (the /cdn and /v1 read endpoints of the public listener): its errors
// get the public message of their code. Requests of the admin listener
// (authenticated members) and writes get the whole error.
func anonymous(c *gin.Context) bool {
	if c.GetBool(operatorKey) {
		return false
	}
	r := c.Request
	return r.Method != http.MethodPut && r.Method != http.MethodDelete
}

// operatorKey marks requests of the admin listener's authenticated callers.
const operatorKey = "dct.operator"

// writeError answers err as a JSON error body (only the status for HEAD)
// with the request's id, and logs the whole error under that id. Headers
// describing the content, set before an error was found, are dropped: an
// error must not be cached as the object (immutable) or typed as it.
func writeError(c *gin.Context, err error) {
	status, code := statusOf(err)
	id, log := requestLog(c)
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelWarn
		if code == api.CodeInternal {
			level = slog.LevelError
		}
	}
	log.Log(c.Request.Context(), level, "request failed", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", status, "code", code, "err", err)
	hd := c.Writer.Header()
	for _, k := range []string{"ETag", "Last-Modified", "X-DCT-Version", "Content-Length"} {
		hd.Del(k)
	}
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Type", "application/json; charset=utf-8")
	if code == api.CodeOverloaded {
		hd.Set("Retry-After", retryAfter)
	}
	if c.Request.Method == http.MethodHead {
		c.AbortWithStatus(status)
		return
	}
	msg := err.Error()
	if anonymous(c) {
		msg = publicMessages[code]
	}
	c.AbortWithStatusJSON(status, api.ErrorBody{Error: api.Error{Code: code, Message: msg, RequestID: id}})
}

// Keys of the request's id and logger in the gin context.
const (
	requestIDKey  = "dct.requestId"
	requestLogKey = "dct.log"
)

// newRequestID is 16 random hex digits.
// Request ids are 16 hex digits: a random 64-bit base drawn at start plus
// a counter, so unique in the process and, with overwhelming probability,
// across gateways, without a random draw per request.
var (
	requestIDBase = func() uint64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return binary.BigEndian.Uint64(b[:])
	}()
	requestIDSeq atomic.Uint64
)

func newRequestID() string {
	var b [16]byte
	v := requestIDBase + requestIDSeq.Add(1)
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// requestLog is the request's id and its logger (set by the requestID
// middleware; a request without one gets a fresh id and the default
// logger).
func requestLog(c *gin.Context) (string, *slog.Logger) {
	id, _ := c.Get(requestIDKey)
	log, _ := c.Get(requestLogKey)
	sid, _ := id.(string)
	l, _ := log.(*slog.Logger)
	if sid == "" {
		sid = newRequestID()
		c.Writer.Header().Set(api.RequestIDHeader, sid)
	}
	if l == nil {
		l = slog.Default()
	}
	l = l.With("requestId", sid)
	return sid, l
}
