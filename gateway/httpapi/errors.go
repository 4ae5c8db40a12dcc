package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/memberauth"
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
	case errors.Is(err, content.ErrUpload):
		return http.StatusBadGateway, api.CodeUploadFailed
	case errors.Is(err, content.ErrCorrupt):
		return http.StatusBadGateway, api.CodeCorrupt
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, api.CodeTimeout
	case errors.Is(err, content.ErrLedger):
		return http.StatusServiceUnavailable, api.CodeLedgerUnavailable
	default:
		return http.StatusInternalServerError, api.CodeInternal
	}
}

// writeError answers err as a JSON error body (only the status for HEAD).
// Headers describing the content, set before an error was found, are
// dropped: an error must not be cached as the object (immutable) or typed
// as it.
func writeError(c *gin.Context, err error) {
	status, code := statusOf(err)
	hd := c.Writer.Header()
	for _, k := range []string{"ETag", "Last-Modified", "X-DCT-Version", "Content-Length"} {
		hd.Del(k)
	}
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Type", "application/json; charset=utf-8")
	if c.Request.Method == http.MethodHead {
		c.AbortWithStatus(status)
		return
	}
	c.AbortWithStatusJSON(status, api.ErrorBody{Error: api.Error{Code: code, Message: err.Error()}})
}
