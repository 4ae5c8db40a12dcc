package api

// Error codes of JSON error bodies. They are stable: clients may switch on
// them. The HTTP status of each is given beside it.
const (
	CodeInvalid           = "INVALID_ARGUMENT"      // 400
	CodeForbidden         = "PERMISSION_DENIED"     // 403
	CodeNotFound          = "NOT_FOUND"             // 404
	CodeMethodNotAllowed  = "METHOD_NOT_ALLOWED"    // 405
	CodeConflict          = "CONFLICT"              // 409
	CodePurged            = "PURGED"                // 410
	CodeLengthRequired    = "LENGTH_REQUIRED"       // 411
	CodeTooLarge          = "TOO_LARGE"             // 413
	CodeRangeNotSatisfied = "RANGE_NOT_SATISFIABLE" // 416
	CodeInternal          = "INTERNAL"              // 500
	CodeUploadFailed      = "UPLOAD_FAILED"         // 502
	CodeCorrupt           = "CONTENT_CORRUPT"       // 502
	CodeUnknownKey        = "UNKNOWN_KEY"           // 503: encrypted under a master key this gateway lacks
	CodeNoPlacement       = "NO_PLACEMENT"          // 503
	CodeShardsUnavailable = "SHARDS_UNAVAILABLE"    // 503
	CodeLedgerUnavailable = "LEDGER_UNAVAILABLE"    // 503
	CodeOverloaded        = "OVERLOADED"            // 503, with Retry-After
	CodeTimeout           = "TIMEOUT"               // 504
)

// Error is the error of an answer: a stable code, a message and the
// request's id (also its X-Request-Id header), under which the gateway
// logged the whole error. Reads (the /cdn and /v1 read endpoints) get a
// fixed message per code, which names nothing inside the system.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}

// RequestIDHeader is the response header carrying the request's id.
const RequestIDHeader = "X-Request-Id"

// ErrorBody is the JSON body of every error answer:
// {"error": {"code": …, "message": …, "requestId": …}}.
type ErrorBody struct {
	Error Error `json:"error"`
}
