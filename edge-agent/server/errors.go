package server

import (
	"context"
	"errors"

	"github.com/dct-network/dct/edge-agent/store"
	"github.com/dct-network/dct/pkg/memberauth"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrProtocol marks a request stream that breaks the ShardService contract
// (for example a PutShard that does not start with a header).
var ErrProtocol = errors.New("protocol violation")

// Authorisation errors.
var (
	// ErrUnauthenticated: the caller presented no certificate of a member
	// organisation's MSP. It is memberauth's, which the certificate
	// verification returns.
	ErrUnauthenticated = memberauth.ErrUnauthenticated
	// ErrPermissionDenied: the caller is not a gateway on the ledger, or
	// the ledger does not let the shard go from this node.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrLedgerUnavailable: the ledger did not answer a question the
	// decision needs; the call may succeed later. (The identity registry
	// not answering is memberauth.ErrRoleLookup, mapped alike.)
	ErrLedgerUnavailable = errors.New("ledger unavailable")
	// ErrUploadIdle: an upload sent nothing for the idle timeout and was
	// aborted.
	ErrUploadIdle = errors.New("upload idle")
)

// Status turns an error of the server or the store into a gRPC status
// error. It is the only place where errors are mapped to codes.
func Status(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err // already a status, e.g. from the stream itself
	}
	code := codes.Internal
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrHashMismatch),
		errors.Is(err, store.ErrSizeMismatch), errors.Is(err, ErrProtocol):
		code = codes.InvalidArgument
	case errors.Is(err, store.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, store.ErrOutOfRange):
		code = codes.OutOfRange
	case errors.Is(err, store.ErrNoSpace):
		code = codes.ResourceExhausted
	case errors.Is(err, store.ErrCorrupt):
		code = codes.DataLoss
	case errors.Is(err, store.ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, store.ErrUploadDone):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrUnauthenticated):
		code = codes.Unauthenticated
	case errors.Is(err, ErrPermissionDenied):
		code = codes.PermissionDenied
	case errors.Is(err, ErrLedgerUnavailable), errors.Is(err, memberauth.ErrRoleLookup):
		code = codes.Unavailable
	case errors.Is(err, ErrUploadIdle):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}
