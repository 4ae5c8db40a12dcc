package ledger

import (
	"errors"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	// ErrUnavailable: no peer or orderer answered in time; the call may be
	// retried.
	ErrUnavailable = errors.New("ledger unavailable")
	// ErrConflict: the transaction lost an optimistic-concurrency race (MVCC
	// or phantom read conflict) and was not applied; re-read and retry.
	ErrConflict = errors.New("ledger write conflict")
	// ErrRejected: the transaction was refused for another reason (policy,
	// validation) that is not a DCT chaincode error.
	ErrRejected = errors.New("ledger rejected transaction")
)

// CallError is the error of one chaincode call. Err is a *records.Error for
// chaincode refusals, or wraps ErrUnavailable, ErrConflict or ErrRejected.
type CallError struct {
	Function string
	TxID     string
	Err      error
}

func (e *CallError) Error() string {
	if e.TxID != "" {
		return fmt.Sprintf("ledger %s (tx %s): %v", e.Function, e.TxID, e.Err)
	}
	return fmt.Sprintf("ledger %s: %v", e.Function, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

type commitFailure struct{ code peer.TxValidationCode }

func (e *commitFailure) Error() string {
	return fmt.Sprintf("transaction failed to commit: %s", e.code)
}

// classify turns a fabric-gateway error into a CallError. This is the one
// place where Fabric's error types are interpreted.
func classify(fn, txID string, err error) error {
	if err == nil {
		return nil
	}
	ce := &CallError{Function: fn, TxID: txID}
	var commitErr *client.CommitError
	var failed *commitFailure
	code := peer.TxValidationCode_VALID
	switch {
	case errors.As(err, &commitErr):
		code = commitErr.Code
	case errors.As(err, &failed):
		code = failed.code
	}
	if code != peer.TxValidationCode_VALID {
		if code == peer.TxValidationCode_MVCC_READ_CONFLICT || code == peer.TxValidationCode_PHANTOM_READ_CONFLICT {
			ce.Err = fmt.Errorf("%w: %s", ErrConflict, code)
		} else {
			ce.Err = fmt.Errorf("%w: %s", ErrRejected, code)
		}
		return ce
	}
	st, ok := status.FromError(err)
	if !ok {
		if re, ok := records.ParseError(err.Error()); ok {
			ce.Err = re
			return ce
		}
		ce.Err = fmt.Errorf("%w: %v", ErrRejected, err)
		return ce
	}
	for _, d := range st.Details() {
		if det, ok := d.(*gateway.ErrorDetail); ok {
			if re, ok := records.ParseError(det.GetMessage()); ok {
				ce.Err = re
				return ce
			}
		}
	}
	if re, ok := records.ParseError(st.Message()); ok {
		ce.Err = re
		return ce
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted:
		ce.Err = fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	default:
		ce.Err = fmt.Errorf("%w: %s", ErrRejected, st.Message())
	}
	return ce
}
