package agents

import (
	"context"
	"errors"
	"fmt"

	"github.com/dct-network/dct/gateway/content"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// contentErrors are the errors callErr returns as they are.
var contentErrors = []error{
	content.ErrShardCorrupt, content.ErrShardNotFound, content.ErrAgentFull,
	content.ErrAgentRefused, content.ErrAgentUnavailable,
}

// callErr maps the error of a ShardService call to the content package's
// agent errors, keeping the agent's message. It is the one place where the
// agents' gRPC status codes are interpreted (the agent side maps its
// errors to codes in edge-agent/server.Status):
//
//	DataLoss                      content.ErrShardCorrupt (copy rotten, quarantined)
//	NotFound                      content.ErrShardNotFound
//	ResourceExhausted             content.ErrAgentFull
//	InvalidArgument, OutOfRange,
//	FailedPrecondition, AlreadyExists,
//	PermissionDenied, Unauthenticated content.ErrAgentRefused
//	DeadlineExceeded, Canceled    content.ErrAgentUnavailable and the context error
//	Unavailable and the rest      content.ErrAgentUnavailable
func callErr(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range contentErrors {
		if errors.Is(err, e) {
			return err
		}
	}
	st, ok := status.FromError(err)
	if !ok {
		// Not from the agent: the connection, or this side's context.
		return fmt.Errorf("%w: %w", content.ErrAgentUnavailable, err)
	}
	var target error
	switch st.Code() {
	case codes.OK:
		return nil
	case codes.DataLoss:
		target = content.ErrShardCorrupt
	case codes.NotFound:
		target = content.ErrShardNotFound
	case codes.ResourceExhausted:
		target = content.ErrAgentFull
	case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated:
		target = content.ErrAgentRefused
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %w: %s", content.ErrAgentUnavailable, context.DeadlineExceeded, st.Message())
	case codes.Canceled:
		return fmt.Errorf("%w: %w: %s", content.ErrAgentUnavailable, context.Canceled, st.Message())
	default:
		target = content.ErrAgentUnavailable
	}
	return fmt.Errorf("%w: %s: %s", target, st.Code(), st.Message())
}
