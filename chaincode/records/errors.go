package records

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Code classifies an error. Its values follow the gRPC status names so that
// gateways can map them directly.
type Code string

// Error codes.
const (
	// CodeInvalid reports malformed caller input.
	CodeInvalid Code = "INVALID_ARGUMENT"
	// CodeNotFound reports a record that does not exist.
	CodeNotFound Code = "NOT_FOUND"
	// CodeConflict reports a record that already exists, or a
	// compare-and-set whose expected value no longer matches the record (the
	// caller lost a race, as when manifest:UpdateHolders finds that the
	// shard's holders changed): re-read before deciding what to do.
	CodeConflict Code = "ALREADY_EXISTS"
	// CodeForbidden reports a caller that may not act on a record.
	CodeForbidden Code = "PERMISSION_DENIED"
	// CodeFailedPrecondition reports a record whose state does not allow the
	// operation (for example a node that is inactive).
	CodeFailedPrecondition Code = "FAILED_PRECONDITION"
	// CodeInternal reports a failure of the ledger or a corrupt stored record;
	// it is never caused by caller input.
	CodeInternal Code = "INTERNAL"
)

// String returns the code text, for example "NOT_FOUND".
func (c Code) String() string { return string(c) }

// Valid reports whether c is one of the defined codes.
func (c Code) Valid() bool { return sentinel(c) != nil }

// Sentinel errors, one per code. errors.Is(err, ErrNotFound) is true for every
// *Error whose code is CodeNotFound.
var (
	ErrInvalid            error = &Error{Code: CodeInvalid, Message: "invalid argument"}
	ErrNotFound           error = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict           error = &Error{Code: CodeConflict, Message: "already exists"}
	ErrForbidden          error = &Error{Code: CodeForbidden, Message: "permission denied"}
	ErrFailedPrecondition error = &Error{Code: CodeFailedPrecondition, Message: "failed precondition"}
	ErrInternal           error = &Error{Code: CodeInternal, Message: "internal error"}
)

func sentinel(c Code) error {
	switch c {
	case CodeInvalid:
		return ErrInvalid
	case CodeNotFound:
		return ErrNotFound
	case CodeConflict:
		return ErrConflict
	case CodeForbidden:
		return ErrForbidden
	case CodeFailedPrecondition:
		return ErrFailedPrecondition
	case CodeInternal:
		return ErrInternal
	}
	return nil
}

// Error is a DCT error: a Code and a single-line human readable message.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Error returns "DCT-" + Code + ": " + Message.
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	return "DCT-" + string(e.Code) + ": " + e.Message
}

// Is reports whether target is the sentinel error of e's code.
func (e *Error) Is(target error) bool {
	if e == nil {
		return false
	}
	s := sentinel(e.Code)
	return s != nil && target == s
}

// NewError returns an *Error with the given code and message. Line breaks and
// tabs in the message are replaced by spaces and surrounding space is trimmed,
// so that the message stays on one line and survives ParseError unchanged.
func NewError(code Code, message string) *Error {
	return &Error{Code: code, Message: oneLine(message)}
}

// Errorf returns an *Error with the given code and a message formatted as by
// fmt.Sprintf (see NewError for the normalisation applied).
func Errorf(code Code, format string, args ...any) *Error {
	return NewError(code, fmt.Sprintf(format, args...))
}

// CodeOf returns the code of the first *Error in err's chain, or "" when
// there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e.Code
	}
	return ""
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s)
	}
	return strings.TrimSpace(s)
}

var errorPattern = regexp.MustCompile(`DCT-(INVALID_ARGUMENT|NOT_FOUND|ALREADY_EXISTS|PERMISSION_DENIED|FAILED_PRECONDITION|INTERNAL): `)

// ParseError finds the first "DCT-<CODE>: <message>" in s and returns it as an
// *Error. Chaincode errors reach clients embedded in longer texts (gRPC status
// messages, endorsement error details), so the pattern may appear anywhere.
// The message ends at the end of the line; when the pattern directly follows a
// double quote (the peer quotes the chaincode message in some errors) the
// message ends at the matching closing quote and is unescaped.
func ParseError(s string) (*Error, bool) {
	loc := errorPattern.FindStringSubmatchIndex(s)
	if loc == nil {
		return nil, false
	}
	code := Code(s[loc[2]:loc[3]])
	rest := s[loc[1]:]
	if loc[0] > 0 && s[loc[0]-1] == '"' {
		if msg, ok := unquotePrefix(rest); ok {
			return &Error{Code: code, Message: msg}, true
		}
	}
	if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
		rest = rest[:i]
	}
	return &Error{Code: code, Message: strings.TrimRightFunc(rest, unicode.IsSpace)}, true
}

// unquotePrefix reads s up to the first unescaped double quote and unescapes
// it as the body of a Go (or JSON) string literal.
func unquotePrefix(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			msg, err := strconv.Unquote(`"` + s[:i] + `"`)
			if err != nil {
				return s[:i], true
			}
			return msg, true
		case '\n', '\r':
			return "", false
		}
	}
	return "", false
}

// invalidf is shorthand for Errorf(CodeInvalid, ...).
func invalidf(format string, args ...any) *Error {
	return Errorf(CodeInvalid, format, args...)
}
