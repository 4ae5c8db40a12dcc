package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fnStub is a stub that names a function (the rest of the interface is
// never called).
type fnStub struct {
	shim.ChaincodeStubInterface
	fn string
}

func (s fnStub) GetFunctionAndParameters() (string, []string) { return s.fn, nil }

// failing refuses functions named "bad:*" as contractapi does (500).
type failing struct{}

func (failing) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }
func (failing) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	if fn, _ := stub.GetFunctionAndParameters(); strings.HasPrefix(fn, "bad:") {
		return shim.Error("refused")
	}
	return shim.Success(nil)
}

// TestInstrumentedChaincode: calls are counted by function and status,
// timed by function, and made-up names past the bound count as "other".
func TestInstrumentedChaincode(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	cc := m.Instrument(failing{})
	cc.Init(fnStub{})
	cc.Invoke(fnStub{fn: "delivery:Commit"})
	cc.Invoke(fnStub{fn: "delivery:Commit"})
	cc.Invoke(fnStub{fn: "bad:Thing"})
	for i := range maxFunctionLabels + 10 {
		cc.Invoke(fnStub{fn: fmt.Sprintf("made:up%d", i)})
	}
	tests := []struct {
		fn, status string
		want       float64
	}{
		{"Init", "200", 1},
		{"delivery:Commit", "200", 2},
		{"bad:Thing", "500", 1},
		{"other", "200", 13}, // 256 names: Init, Commit, bad:Thing and 253 made up; 13 more are "other"
	}
	for _, tc := range tests {
		if got := testutil.ToFloat64(m.calls.WithLabelValues(tc.fn, tc.status)); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.fn, tc.status, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(reg, "dct_chaincode_calls_total"); n != maxFunctionLabels+1 {
		t.Errorf("%d series, want %d", n, maxFunctionLabels+1)
	}
	if n := testutil.CollectAndCount(reg, "dct_chaincode_call_duration_seconds"); n != maxFunctionLabels+1 {
		t.Errorf("%d duration series, want %d", n, maxFunctionLabels+1)
	}
}

// TestChaincodeOpsHandler: /metrics, /healthz, and /readyz (503 until
// ready) with the JSON status.
func TestChaincodeOpsHandler(t *testing.T) {
	reg := NewRegistry()
	NewMetrics(reg).Instrument(failing{}).Invoke(fnStub{fn: "node:List"})
	ready := errors.New("not serving yet")
	h := OpsHandler(reg, func() error { return ready })
	get := func(path string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `dct_chaincode_calls_total{function="node:List",status="200"} 1`) {
		t.Errorf("/metrics: %d %s", code, body)
	}
	for _, tc := range []struct {
		path   string
		code   int
		status string
	}{{"/healthz", 200, "OK"}, {"/readyz", 503, "Service Unavailable"}} {
		code, body := get(tc.path)
		var st opsStatus
		if err := json.Unmarshal([]byte(body), &st); err != nil || code != tc.code || st.Status != tc.status || st.Component != "chaincode" {
			t.Errorf("%s: %d %s", tc.path, code, body)
		}
	}
	ready = nil
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz when ready: %d", code)
	}
	if code, _ := get("/other"); code != 404 {
		t.Errorf("/other: %d", code)
	}
	if _, err := ServeOps(t.Context(), "nope", h, nil); err == nil {
		t.Error("a malformed address was accepted")
	}
}
