package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/dct-network/dct/gateway/content"
	"github.com/gin-gonic/gin"
)

// Error codes of JSON error bodies. They are stable: clients may switch on
// them.
const (
	CodeInvalid           = "INVALID_ARGUMENT"
	CodeLengthRequired    = "LENGTH_REQUIRED"
	CodeTooLarge          = "TOO_LARGE"
	CodeNotFound          = "NOT_FOUND"
	CodePurged            = "PURGED"
	CodeForbidden         = "PERMISSION_DENIED"
	CodeNoPlacement       = "NO_PLACEMENT"
	CodeShardsUnavailable = "SHARDS_UNAVAILABLE"
	CodeUploadFailed      = "UPLOAD_FAILED"
	CodeCorrupt           = "CONTENT_CORRUPT"
	CodeLedgerUnavailable = "LEDGER_UNAVAILABLE"
	CodeTimeout           = "TIMEOUT"
	CodeRangeNotSatisfied = "RANGE_NOT_SATISFIABLE"
	CodeInternal          = "INTERNAL"
	CodeMethodNotAllowed  = "METHOD_NOT_ALLOWED"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// statusOf maps an error to an HTTP status and code: the one place where
// that mapping lives.
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, content.ErrInvalid):
		return http.StatusBadRequest, CodeInvalid
	case errors.Is(err, content.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.Is(err, content.ErrNotFound):
		return http.StatusNotFound, CodeNotFound
	case errors.Is(err, content.ErrPurged):
		return http.StatusGone, CodePurged
	case errors.Is(err, content.ErrForbidden):
		return http.StatusForbidden, CodeForbidden
	case errors.Is(err, content.ErrNoPlacement):
		return http.StatusServiceUnavailable, CodeNoPlacement
	case errors.Is(err, content.ErrShardsUnavailable):
		return http.StatusServiceUnavailable, CodeShardsUnavailable
	case errors.Is(err, content.ErrUpload):
		return http.StatusBadGateway, CodeUploadFailed
	case errors.Is(err, content.ErrCorrupt):
		return http.StatusBadGateway, CodeCorrupt
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, CodeTimeout
	case errors.Is(err, content.ErrLedger):
		return http.StatusServiceUnavailable, CodeLedgerUnavailable
	default:
		return http.StatusInternalServerError, CodeInternal
	}
}

func writeError(c *gin.Context, err error) {
	status, code := statusOf(err)
	writeCode(c, status, code, err.Error())
}

func writeCode(c *gin.Context, status int, code, msg string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	if c.Request.Method == http.MethodHead {
		c.Status(status)
		return
	}
	c.AbortWithStatusJSON(status, b)
}
