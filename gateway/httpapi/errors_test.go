package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
)

// documented are the codes the README's "Errors" paragraph lists.
var documented = map[string]int{
	api.CodeInvalid: 400, api.CodeForbidden: 403, api.CodeNotFound: 404, api.CodeMethodNotAllowed: 405,
	api.CodeConflict: 409, api.CodePurged: 410, api.CodeLengthRequired: 411, api.CodeTooLarge: 413,
	api.CodeRangeNotSatisfied: 416, api.CodeInternal: 500, api.CodeUploadFailed: 502, api.CodeCorrupt: 502,
	api.CodeNoPlacement: 503, api.CodeShardsUnavailable: 503, api.CodeLedgerUnavailable: 503, api.CodeOverloaded: 503, api.CodeUnknownKey: 503, api.CodeTimeout: 504,
}

func TestStatusOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("%w: detail", err) }
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"invalid", wrap(content.ErrInvalid), http.StatusBadRequest, api.CodeInvalid},
		{"forbidden", wrap(content.ErrForbidden), http.StatusForbidden, api.CodeForbidden},
		{"not found", wrap(content.ErrNotFound), http.StatusNotFound, api.CodeNotFound},
		{"method not allowed", wrap(errMethodNotAllowed), http.StatusMethodNotAllowed, api.CodeMethodNotAllowed},
		{"conflict", wrap(content.ErrConflict), http.StatusConflict, api.CodeConflict},
		{"purged", wrap(content.ErrPurged), http.StatusGone, api.CodePurged},
		{"length required", wrap(errLengthRequired), http.StatusLengthRequired, api.CodeLengthRequired},
		{"too large", wrap(content.ErrTooLarge), http.StatusRequestEntityTooLarge, api.CodeTooLarge},
		{"range", wrap(errRangeNotSatisfiable), http.StatusRequestedRangeNotSatisfiable, api.CodeRangeNotSatisfied},
		{"unknown error", errors.New("boom"), http.StatusInternalServerError, api.CodeInternal},
		{"upload", wrap(content.ErrUpload), http.StatusBadGateway, api.CodeUploadFailed},
		{"upload timing out", fmt.Errorf("%w: %w", content.ErrUpload, context.DeadlineExceeded), http.StatusBadGateway, api.CodeUploadFailed},
		{"corrupt", wrap(content.ErrCorrupt), http.StatusBadGateway, api.CodeCorrupt},
		{"unknown master key", wrap(content.ErrUnknownKey), http.StatusServiceUnavailable, api.CodeUnknownKey},
		{"no placement", wrap(content.ErrNoPlacement), http.StatusServiceUnavailable, api.CodeNoPlacement},
		{"shards unavailable", &content.ShardsUnavailableError{Object: "a@1", Need: 4, Have: 2}, http.StatusServiceUnavailable, api.CodeShardsUnavailable},
		{"ledger", wrap(content.ErrLedger), http.StatusServiceUnavailable, api.CodeLedgerUnavailable},
		{"overloaded", wrap(content.ErrOverloaded), http.StatusServiceUnavailable, api.CodeOverloaded},
		{"timeout", fmt.Errorf("serve: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, api.CodeTimeout},
		{"agent error reaching the API", wrap(content.ErrAgentUnavailable), http.StatusInternalServerError, api.CodeInternal},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := statusOf(tt.err)
			if status != tt.status || code != tt.code {
				t.Fatalf("statusOf(%v) = %d %s, want %d %s", tt.err, status, code, tt.status, tt.code)
			}
			if want, ok := documented[code]; !ok || want != status {
				t.Fatalf("%s %d is not documented as such", code, status)
			}
		})
		seen[tt.code] = true
	}
	for code := range documented {
		if !seen[code] {
			t.Errorf("documented code %s is not covered", code)
		}
		if publicMessages[code] == "" {
			t.Errorf("code %s has no public message", code)
		}
	}
}
