package records

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: CodeInvalid, Message: "bad"}, "DCT-INVALID_ARGUMENT: bad"},
		{&Error{Code: CodeNotFound, Message: "node 'a' is not registered"}, "DCT-NOT_FOUND: node 'a' is not registered"},
		{&Error{Code: CodeConflict, Message: "x"}, "DCT-ALREADY_EXISTS: x"},
		{&Error{Code: CodeForbidden, Message: "x"}, "DCT-PERMISSION_DENIED: x"},
		{&Error{Code: CodeFailedPrecondition, Message: "x"}, "DCT-FAILED_PRECONDITION: x"},
		{&Error{Code: CodeInternal, Message: "x"}, "DCT-INTERNAL: x"},
		{Errorf(CodeInvalid, "line1\nline2\r\nline3\tend  "), "DCT-INVALID_ARGUMENT: line1 line2 line3 end"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := map[Code]error{
		CodeInvalid:            ErrInvalid,
		CodeNotFound:           ErrNotFound,
		CodeConflict:           ErrConflict,
		CodeForbidden:          ErrForbidden,
		CodeFailedPrecondition: ErrFailedPrecondition,
		CodeInternal:           ErrInternal,
	}
	for code, want := range sentinels {
		err := fmt.Errorf("wrapped: %w", Errorf(code, "something"))
		for other, s := range sentinels {
			if got := errors.Is(err, s); got != (other == code) {
				t.Errorf("errors.Is(%s error, %s sentinel) = %v", code, other, got)
			}
		}
		if !errors.Is(want, want) {
			t.Errorf("sentinel %s does not match itself", code)
		}
		if got := CodeOf(err); got != code {
			t.Errorf("CodeOf = %q, want %q", got, code)
		}
		if !code.Valid() {
			t.Errorf("%s not Valid", code)
		}
	}
	if errors.Is(Errorf("BOGUS", "x"), ErrInvalid) {
		t.Error("unknown code matches a sentinel")
	}
	if CodeOf(errors.New("plain")) != "" || CodeOf(nil) != "" {
		t.Error("CodeOf of a non-DCT error is not empty")
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   *Error
		wantOK bool
	}{
		{"exact", "DCT-NOT_FOUND: node 'a' is not registered",
			&Error{CodeNotFound, "node 'a' is not registered"}, true},
		{"gateway detail", "chaincode response 500, DCT-PERMISSION_DENIED: node 'a' belongs to Org1MSP; Org2MSP may not update it",
			&Error{CodeForbidden, "node 'a' belongs to Org1MSP; Org2MSP may not update it"}, true},
		{"grpc status", "rpc error: code = Unknown desc = error in simulation: transaction returned with failure: DCT-ALREADY_EXISTS: manifest 'a@1' is already recorded",
			&Error{CodeConflict, "manifest 'a@1' is already recorded"}, true},
		{"peer quoted", `endorsement failure during invoke. response: status:500 message:"DCT-INVALID_ARGUMENT: id \"A B\" must match ^[a-z0-9][a-z0-9-]{0,62}$" `,
			&Error{CodeInvalid, `id "A B" must match ^[a-z0-9][a-z0-9-]{0,62}$`}, true},
		{"json quoted", `{"message":"DCT-FAILED_PRECONDITION: node 'n1' is inactive","status":500}`,
			&Error{CodeFailedPrecondition, "node 'n1' is inactive"}, true},
		{"multi-line", "first line\nDCT-INTERNAL: ledger down\nstack trace here",
			&Error{CodeInternal, "ledger down"}, true},
		{"trailing space", "DCT-NOT_FOUND: gone   \r\n",
			&Error{CodeNotFound, "gone"}, true},
		{"first wins", "DCT-NOT_FOUND: a; DCT-INTERNAL: b",
			&Error{CodeNotFound, "a; DCT-INTERNAL: b"}, true},
		{"unknown code", "DCT-TEAPOT: short and stout", nil, false},
		{"no marker", "some other failure", nil, false},
		{"no space", "DCT-NOT_FOUND:x", nil, false},
		{"empty", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseError(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if *got != *tt.want {
				t.Errorf("got %+v, want %+v", *got, *tt.want)
			}
		})
	}
}

func TestParseErrorRoundTrip(t *testing.T) {
	messages := []string{
		"node 'a' is not registered",
		`id "x\y" must match ^[a-z]$`,
		"spaces  inside   kept",
		"unicode ok: ünïcødé ✓",
		"with\nnewline",
		"",
	}
	codes := []Code{CodeInvalid, CodeNotFound, CodeConflict, CodeForbidden, CodeFailedPrecondition, CodeInternal}
	for _, code := range codes {
		for _, msg := range messages {
			e := NewError(code, msg)
			for _, wrap := range []string{"%s", "prefix: %s", "chaincode response 500, %s", "message:%s"} {
				text := fmt.Sprintf(wrap, e.Error())
				if wrap == "message:%s" {
					text = "message:" + strconv.Quote(e.Error()) + " rest"
				}
				got, ok := ParseError(text)
				if !ok || *got != *e {
					t.Errorf("ParseError(%q) = %+v, %v; want %+v", text, got, ok, *e)
				}
			}
		}
	}
}
