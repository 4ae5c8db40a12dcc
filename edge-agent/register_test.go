package edgeagent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// fakeRegistry is an in-memory node registry acting for one organisation,
// with the chaincode's ownership and status rules.
type fakeRegistry struct {
	mu     sync.Mutex
	caller string
	nodes  map[string]*records.Node
	calls  []string
	// failures are returned, in order, by the next calls.
	failures []error
}

func newFakeRegistry(caller string, nodes ...*records.Node) *fakeRegistry {
	r := &fakeRegistry{caller: caller, nodes: map[string]*records.Node{}}
	for _, n := range nodes {
		r.nodes[n.ID] = n
	}
	return r
}

func (r *fakeRegistry) call(name string) error {
	r.calls = append(r.calls, name)
	if len(r.failures) > 0 {
		err := r.failures[0]
		r.failures = r.failures[1:]
		return err
	}
	return nil
}

func (r *fakeRegistry) GetNode(_ context.Context, id string) (*records.Node, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("get"); err != nil {
		return nil, err
	}
	n, ok := r.nodes[id]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "node %s", id)
	}
	c := *n
	return &c, nil
}

func (r *fakeRegistry) RegisterNode(_ context.Context, in records.NodeInput) (*records.Node, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("register"); err != nil {
		return nil, err
	}
	if _, ok := r.nodes[in.ID]; ok {
		return nil, records.Errorf(records.CodeConflict, "node %s", in.ID)
	}
	n := &records.Node{Status: records.NodeStatusActive}
	apply(n, in, r.caller)
	r.nodes[in.ID] = n
	c := *n
	return &c, nil
}

func (r *fakeRegistry) UpdateNode(_ context.Context, in records.NodeInput) (*records.Node, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("update"); err != nil {
		return nil, err
	}
	n, ok := r.nodes[in.ID]
	switch {
	case !ok:
		return nil, records.Errorf(records.CodeNotFound, "node %s", in.ID)
	case n.Org != r.caller:
		return nil, records.Errorf(records.CodeForbidden, "node %s", in.ID)
	case !n.Active():
		return nil, records.Errorf(records.CodeFailedPrecondition, "node %s inactive", in.ID)
	}
	apply(n, in, n.Org)
	c := *n
	return &c, nil
}

func (r *fakeRegistry) ReactivateNode(_ context.Context, id string) (*records.Node, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("reactivate"); err != nil {
		return nil, err
	}
	n, ok := r.nodes[id]
	switch {
	case !ok:
		return nil, records.Errorf(records.CodeNotFound, "node %s", id)
	case n.Org != r.caller:
		return nil, records.Errorf(records.CodeForbidden, "node %s", id)
	case n.Active():
		return nil, records.Errorf(records.CodeFailedPrecondition, "node %s active", id)
	}
	n.Status, n.DeactivationReason = records.NodeStatusActive, ""
	c := *n
	return &c, nil
}

func apply(n *records.Node, in records.NodeInput, org string) {
	n.ID, n.Org, n.Endpoint, n.Zone = in.ID, org, in.Endpoint, in.Zone
	n.Latitude, n.Longitude, n.StorageBytes, n.BandwidthBps, n.PublicKey = in.Latitude, in.Longitude, in.StorageBytes, in.BandwidthBps, in.PublicKey
}

func testKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := PublicKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestRegister(t *testing.T) {
	key := testKeyPEM(t)
	in := records.NodeInput{ID: "agent0-org1", Endpoint: "127.0.0.1:9500", Zone: "z1", StorageBytes: 1 << 30, BandwidthBps: 1e8, PublicKey: key}
	existing := func(org string, status records.NodeStatus, change func(*records.NodeInput)) *records.Node {
		i := in
		if change != nil {
			change(&i)
		}
		n := &records.Node{Status: status}
		apply(n, i, org)
		return n
	}
	tests := []struct {
		name      string
		nodes     []*records.Node
		failures  []error
		in        func(*records.NodeInput)
		wantCalls []string
		wantErr   error
	}{
		{name: "new node", wantCalls: []string{"get", "register"}},
		{name: "unchanged", nodes: []*records.Node{existing("Org1MSP", records.NodeStatusActive, nil)},
			wantCalls: []string{"get"}},
		{name: "endpoint changed", nodes: []*records.Node{existing("Org1MSP", records.NodeStatusActive, func(i *records.NodeInput) { i.Endpoint = "127.0.0.1:1" })},
			wantCalls: []string{"get", "update"}},
		{name: "key changed", nodes: []*records.Node{existing("Org1MSP", records.NodeStatusActive, func(i *records.NodeInput) { i.PublicKey = testKeyPEM(t) })},
			wantCalls: []string{"get", "update"}},
		{name: "inactive, unchanged", nodes: []*records.Node{existing("Org1MSP", records.NodeStatusInactive, nil)},
			wantCalls: []string{"get", "reactivate"}},
		{name: "inactive, capacity changed", nodes: []*records.Node{existing("Org1MSP", records.NodeStatusInactive, func(i *records.NodeInput) { i.StorageBytes = 5 })},
			wantCalls: []string{"get", "reactivate", "update"}},
		{name: "owned by another org", nodes: []*records.Node{existing("Org2MSP", records.NodeStatusActive, nil)},
			wantCalls: []string{"get"}, wantErr: ErrNodeOwned},
		{name: "registered concurrently", failures: []error{nil, records.Errorf(records.CodeConflict, "taken")},
			wantCalls: []string{"get", "register", "get"}, wantErr: records.ErrNotFound},
		{name: "invalid input", in: func(i *records.NodeInput) { i.Zone = "a zone" }, wantErr: ErrConfig},
		{name: "ledger refuses", failures: []error{&ledger.CallError{Function: "node:Get", Err: records.Errorf(records.CodeForbidden, "no")}},
			wantCalls: []string{"get"}, wantErr: records.ErrForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegistry("Org1MSP", tc.nodes...)
			reg.failures = tc.failures
			i := in
			if tc.in != nil {
				tc.in(&i)
			}
			n, err := Register(context.Background(), reg, "Org1MSP", i, slog.New(slog.DiscardHandler))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Register: %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(reg.calls, tc.wantCalls) {
				t.Fatalf("calls %v, want %v", reg.calls, tc.wantCalls)
			}
			if err != nil {
				return
			}
			i.Org = "Org1MSP"
			if !n.Active() || n.Input() != i || reg.nodes[i.ID].Input() != i {
				t.Fatalf("recorded %+v, want %+v", reg.nodes[i.ID], i)
			}
		})
	}
}

func TestRegisterRetrying(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for back-off")
	}
	in := records.NodeInput{ID: "agent0-org1", Endpoint: "127.0.0.1:9500", Zone: "z1", StorageBytes: 1, BandwidthBps: 1, PublicKey: testKeyPEM(t)}
	unavailable := &ledger.CallError{Function: "node:Get", Err: fmt.Errorf("%w: down", ledger.ErrUnavailable)}
	reg := newFakeRegistry("Org1MSP")
	reg.failures = []error{unavailable, unavailable}
	if _, err := registerRetrying(context.Background(), reg, "Org1MSP", in, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"get", "get", "get", "register"}; !slices.Equal(reg.calls, want) {
		t.Fatalf("calls %v, want %v", reg.calls, want)
	}

	reg = newFakeRegistry("Org1MSP")
	for range 100 {
		reg.failures = append(reg.failures, unavailable)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := registerRetrying(ctx, reg, "Org1MSP", in, slog.New(slog.DiscardHandler))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("registerRetrying: %v", err)
	}
}

// gateways are the certificate hashes the fake identity registry grants
// the gateway role (of any organisation).
var gateways sync.Map

// Roles answers as *ledger.Client does: nil for an identity the registry
// does not know.
func (r *fakeRegistry) Roles(_ context.Context, mspID, certHash string) ([]records.Role, error) {
	if _, ok := gateways.Load(certHash); ok {
		return []records.Role{records.RoleGateway}, nil
	}
	return nil, nil
}

func (r *fakeRegistry) GetManifest(_ context.Context, name, version string) (*records.Manifest, error) {
	return nil, records.Errorf(records.CodeNotFound, "manifest %s@%s", name, version)
}

func (r *fakeRegistry) ManifestVersions(_ context.Context, name string) ([]*records.Manifest, error) {
	return nil, records.Errorf(records.CodeNotFound, "object %s", name)
}
