package builder

import (
	"errors"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these (test
// with errors.Is) and add context such as the file path and the problem.
var (
	// ErrNotCCaaS means the package's metadata.json does not declare type "ccaas".
	ErrNotCCaaS = errors.New("chaincode package type is not ccaas")
	// ErrInvalidMetadata means metadata.json could not be read as the expected JSON.
	ErrInvalidMetadata = errors.New("invalid metadata.json")
	// ErrMissingConnection means connection.json is absent from the
	// chaincode source directory or the build output directory.
	ErrMissingConnection = errors.New("connection.json not found")
	// ErrInvalidConnection means connection.json is malformed or fails
	// validation. Validation failures also carry *FieldError values, which
	// can be extracted with errors.As.
	ErrInvalidConnection = errors.New("invalid ccaas connection")
	// ErrInvalidLabel means a package label does not match Fabric's label rule.
	ErrInvalidLabel = errors.New("invalid chaincode package label")
	// ErrUnsupportedFile means a path that must be a regular file or directory
	// is something else (for example a symlink or device), or is too large.
	ErrUnsupportedFile = errors.New("unsupported file")
	// ErrUsage means the builder was called with the wrong arguments.
	ErrUsage = errors.New("usage error")
)

// FieldError describes one problem with one connection.json field.
type FieldError struct {
	Field   string // JSON name of the field, e.g. "root_cert"
	Problem string // description of what is wrong
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// ValidationError collects every problem [Connection.Validate] found. It
// matches [ErrInvalidConnection] with errors.Is, and each *FieldError in it
// can be extracted with errors.As.
type ValidationError struct {
	Problems []*FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return ErrInvalidConnection.Error() + ": " + strings.Join(parts, "; ")
}

// Unwrap exposes ErrInvalidConnection and the individual field errors.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, 0, len(e.Problems)+1)
	errs = append(errs, ErrInvalidConnection)
	for _, p := range e.Problems {
		errs = append(errs, p)
	}
	return errs
}
