package ledger

import (
	"errors"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func statusWithDetail(code codes.Code, msg, detail string) error {
	st := status.New(code, msg)
	if detail != "" {
		var err error
		st, err = st.WithDetails(&gateway.ErrorDetail{Address: "127.0.0.1:7150", MspId: "Org1MSP", Message: detail})
		if err != nil {
			panic(err)
		}
	}
	return st.Err()
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
		code records.Code
	}{
		{"chaincode refusal in endorsement detail",
			statusWithDetail(codes.Aborted, "failed to endorse transaction", "chaincode response 500, DCT-PERMISSION_DENIED: node n1 belongs to Org1MSP"),
			records.ErrForbidden, records.CodeForbidden},
		{"chaincode refusal in evaluate message",
			statusWithDetail(codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, DCT-NOT_FOUND: node x not found", ""),
			records.ErrNotFound, records.CodeNotFound},
		{"lost compare-and-set in endorsement detail",
			statusWithDetail(codes.Aborted, "failed to endorse transaction", "chaincode response 500, DCT-ALREADY_EXISTS: the holders of shard 1 of manifest 'a@v1' changed"),
			records.ErrConflict, records.CodeConflict},
		{"peer unreachable", statusWithDetail(codes.Unavailable, "connection refused", ""), ErrUnavailable, ""},
		{"deadline", statusWithDetail(codes.DeadlineExceeded, "timeout", ""), ErrUnavailable, ""},
		{"policy failure", statusWithDetail(codes.FailedPrecondition, "no combination of peers", ""), ErrRejected, ""},
		{"mvcc conflict", &commitFailure{code: peer.TxValidationCode_MVCC_READ_CONFLICT}, ErrConflict, ""},
		{"phantom read", &commitFailure{code: peer.TxValidationCode_PHANTOM_READ_CONFLICT}, ErrConflict, ""},
		{"endorsement policy failure at commit", &commitFailure{code: peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE}, ErrRejected, ""},
		{"plain error", errors.New("boom"), ErrRejected, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("node:Get", "tx1", tt.err)
			var ce *CallError
			if !errors.As(err, &ce) || ce.Function != "node:Get" || ce.TxID != "tx1" {
				t.Fatalf("classify() = %v, want *CallError for node:Get tx1", err)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("classify() = %v, want errors.Is %v", err, tt.want)
			}
			if got := records.CodeOf(err); tt.code != "" && got != tt.code {
				t.Fatalf("CodeOf = %q, want %q", got, tt.code)
			}
		})
	}
	if classify("x", "", nil) != nil {
		t.Fatal("classify(nil) != nil")
	}
}
