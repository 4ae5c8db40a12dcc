package contract

import (
	"errors"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

func TestNodeRegister(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *env)
		caller string
		input  func(t *testing.T) string
		code   records.Code
		msg    string
	}{
		{name: "success", caller: orgA, input: func(t *testing.T) string { return nodeJSON(t, "edge-1-orga") }},
		{name: "success with own org", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Org = orgA })
		}},
		{name: "org of another caller", caller: orgB, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Org = orgA })
		}, code: records.CodeForbidden, msg: "differs from the caller's MSP ID OrgBMSP"},
		{name: "id taken", setup: func(e *env) { e.registerNodes(orgA, "edge-1-orga") }, caller: orgA,
			input: func(t *testing.T) string { return nodeJSON(t, "edge-1-orga") },
			code:  records.CodeConflict, msg: "node 'edge-1-orga' is already registered"},
		{name: "id of another org (squatting)", caller: orgB,
			input: func(t *testing.T) string { return nodeJSON(t, "edge-1-orga") },
			code:  records.CodeForbidden, msg: `node id "edge-1-orga" is outside the namespace of OrgBMSP`},
		{name: "id taken by other org", setup: func(e *env) { e.registerNodes(orgA, "edge-1-orga") }, caller: orgB,
			input: func(t *testing.T) string { return nodeJSON(t, "edge-1-orga") },
			code:  records.CodeForbidden, msg: "outside the namespace"},
		{name: "malformed json", caller: orgA, input: func(*testing.T) string { return `{"id":` },
			code: records.CodeInvalid, msg: "malformed"},
		{name: "stray field", caller: orgA, input: func(t *testing.T) string {
			return strings.Replace(nodeJSON(t, "edge-1-orga"), `{`, `{"status":"inactive",`, 1)
		}, code: records.CodeInvalid, msg: `unknown field "status"`},
		{name: "bad id", caller: orgA, input: func(t *testing.T) string { return nodeJSON(t, "Edge_1-orga") },
			code: records.CodeInvalid, msg: "id"},
		{name: "bad endpoint", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Endpoint = "edge-1-orga" })
		}, code: records.CodeInvalid, msg: "endpoint"},
		{name: "bad key", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.PublicKey = "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n" })
		}, code: records.CodeInvalid, msg: "publicKey"},
		{name: "no storage", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.StorageBytes = 0 })
		}, code: records.CodeInvalid, msg: "storageBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			ctx := e.ledger.NewContext(tt.caller)
			n, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.Node, error) {
				return e.node.Register(ctx, tt.input(t))
			})
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ts := records.FormatTimestamp(ctx.Stub.TxTime())
			if n.Org != tt.caller || n.Status != records.NodeStatusActive || n.RegisteredAt != ts ||
				n.UpdatedAt != ts || n.LastTxID != ctx.Stub.GetTxID() || n.DeactivationReason != "" {
				t.Fatalf("unexpected record %+v", n)
			}
			got := must(e, orgB, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Get(ctx, "edge-1-orga") })
			if *got != *n {
				t.Fatalf("stored %+v, returned %+v", got, n)
			}
			key, _ := records.NodeKey("edge-1-orga")
			if _, ok := e.ledger.Get(key); !ok {
				t.Fatal("node not stored under records.NodeKey")
			}
		})
	}
}

func TestNodeRegisterWithoutIdentity(t *testing.T) {
	e := newEnv(t)
	for _, id := range []*fakes.Identity{nil, {MSPID: ""}, {Err: errors.New("boom")}} {
		ctx := e.ledger.NewContext("")
		if id == nil {
			ctx.Identity = nil
		} else {
			ctx.Identity = id
		}
		_, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.Node, error) {
			return e.node.Register(ctx, nodeJSON(t, "edge-1"))
		})
		wantCode(t, err, records.CodeForbidden, "caller")
	}
}

func TestNodeUpdate(t *testing.T) {
	tests := []struct {
		name   string
		caller string
		input  func(t *testing.T) string
		setup  func(e *env)
		code   records.Code
		msg    string
	}{
		{name: "owner updates", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Endpoint = "10.1.2.3:9000"; n.Zone = "us-east" })
		}},
		{name: "owner updates naming itself", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Org = orgA; n.Endpoint = "10.1.2.3:9000"; n.Zone = "us-east" })
		}},
		{name: "other org", caller: orgB, input: func(t *testing.T) string { return nodeJSON(t, "edge-1-orga") },
			code: records.CodeForbidden, msg: "node 'edge-1-orga' belongs to OrgAMSP; OrgBMSP may not update it"},
		{name: "other org claiming it", caller: orgB, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Org = orgB })
		}, code: records.CodeForbidden, msg: "belongs to OrgAMSP"},
		{name: "ownership transfer", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Org = orgB })
		}, code: records.CodeForbidden, msg: "ownership cannot be transferred"},
		{name: "unknown", caller: orgA, input: func(t *testing.T) string { return nodeJSON(t, "edge-9-orga") },
			code: records.CodeNotFound, msg: "node 'edge-9-orga' is not registered"},
		{name: "deactivated", caller: orgA, input: func(t *testing.T) string { return nodeJSON(t, "edge-1-orga") },
			setup: func(e *env) {
				must(e, orgA, func(ctx *fakes.Context) (*records.Node, error) {
					return e.node.Deactivate(ctx, "edge-1-orga", "maintenance")
				})
			}, code: records.CodeFailedPrecondition, msg: "inactive"},
		{name: "invalid", caller: orgA, input: func(t *testing.T) string {
			return nodeJSON(t, "edge-1-orga", func(n *records.NodeInput) { n.Latitude = 91 })
		}, code: records.CodeInvalid, msg: "latitude"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "edge-1-orga")
			orig := must(e, orgA, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Get(ctx, "edge-1-orga") })
			if tt.setup != nil {
				tt.setup(e)
			}
			ctx := e.ledger.NewContext(tt.caller)
			n, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.Node, error) {
				return e.node.Update(ctx, tt.input(t))
			})
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Endpoint != "10.1.2.3:9000" || n.Zone != "us-east" {
				t.Errorf("fields not updated: %+v", n)
			}
			if n.Org != orig.Org || n.RegisteredAt != orig.RegisteredAt || n.Status != records.NodeStatusActive {
				t.Errorf("kept fields changed: %+v (was %+v)", n, orig)
			}
			if n.UpdatedAt != records.FormatTimestamp(ctx.Stub.TxTime()) || n.UpdatedAt == orig.UpdatedAt || n.LastTxID != ctx.Stub.GetTxID() {
				t.Errorf("updatedAt/lastTxId not stamped: %+v", n)
			}
		})
	}
}

func TestNodeDeactivateReactivate(t *testing.T) {
	type step struct {
		caller     string
		deactivate bool
		id, reason string
		code       records.Code
		msg        string
	}
	tests := []struct {
		name  string
		steps []step
		want  records.NodeStatus
	}{
		{"deactivate", []step{{caller: orgA, deactivate: true, id: "edge-1-orga", reason: "disk failure"}}, records.NodeStatusInactive},
		{"deactivate without reason", []step{{caller: orgA, deactivate: true, id: "edge-1-orga"}}, records.NodeStatusInactive},
		{"deactivate and reactivate", []step{
			{caller: orgA, deactivate: true, id: "edge-1-orga", reason: "x"},
			{caller: orgA, id: "edge-1-orga"},
		}, records.NodeStatusActive},
		{"other org deactivates", []step{
			{caller: orgB, deactivate: true, id: "edge-1-orga", code: records.CodeForbidden, msg: "OrgBMSP may not deactivate it"},
		}, records.NodeStatusActive},
		{"other org reactivates", []step{
			{caller: orgA, deactivate: true, id: "edge-1-orga"},
			{caller: orgB, id: "edge-1-orga", code: records.CodeForbidden, msg: "OrgBMSP may not reactivate it"},
		}, records.NodeStatusInactive},
		{"already inactive", []step{
			{caller: orgA, deactivate: true, id: "edge-1-orga"},
			{caller: orgA, deactivate: true, id: "edge-1-orga", code: records.CodeFailedPrecondition, msg: "already inactive"},
		}, records.NodeStatusInactive},
		{"already active", []step{
			{caller: orgA, id: "edge-1-orga", code: records.CodeFailedPrecondition, msg: "already active"},
		}, records.NodeStatusActive},
		{"unknown", []step{
			{caller: orgA, deactivate: true, id: "edge-2", code: records.CodeNotFound, msg: "node 'edge-2' is not registered"},
			{caller: orgA, id: "edge-2", code: records.CodeNotFound, msg: "not registered"},
		}, records.NodeStatusActive},
		{"bad id", []step{{caller: orgA, deactivate: true, id: "EDGE", code: records.CodeInvalid, msg: "id"}}, records.NodeStatusActive},
		{"bad reason", []step{
			{caller: orgA, deactivate: true, id: "edge-1-orga", reason: "two\nlines", code: records.CodeInvalid, msg: "deactivationReason"},
			{caller: orgA, deactivate: true, id: "edge-1-orga", reason: strings.Repeat("r", 513), code: records.CodeInvalid, msg: "at most 512"},
		}, records.NodeStatusActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "edge-1-orga")
			var last *records.Node
			for i, s := range tt.steps {
				n, err := call(e, s.caller, func(ctx *fakes.Context) (*records.Node, error) {
					if s.deactivate {
						return e.node.Deactivate(ctx, s.id, s.reason)
					}
					return e.node.Reactivate(ctx, s.id)
				})
				if s.code != "" {
					wantCode(t, err, s.code, s.msg)
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if s.deactivate && n.DeactivationReason != s.reason {
					t.Errorf("reason %q, want %q", n.DeactivationReason, s.reason)
				}
				if !s.deactivate && n.DeactivationReason != "" {
					t.Errorf("reason kept after reactivation: %q", n.DeactivationReason)
				}
				last = n
			}
			got := must(e, orgA, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Get(ctx, "edge-1-orga") })
			if got.Status != tt.want {
				t.Errorf("status %s, want %s", got.Status, tt.want)
			}
			if last != nil && *got != *last {
				t.Errorf("stored %+v, last returned %+v", got, last)
			}
		})
	}
}

func TestNodeGetAndList(t *testing.T) {
	e := newEnv(t)
	list := must(e, orgA, func(ctx *fakes.Context) ([]*records.Node, error) { return e.node.List(ctx) })
	if list == nil || len(list) != 0 {
		t.Fatalf("empty List = %#v, want empty non-nil slice", list)
	}
	e.registerNodes(orgB, "zeta-orgb", "alpha-2-orgb")
	e.registerNodes(orgA, "alpha-orga", "m1-orga")
	list = must(e, orgA, func(ctx *fakes.Context) ([]*records.Node, error) { return e.node.List(ctx) })
	var ids []string
	for _, n := range list {
		ids = append(ids, n.ID+"/"+n.Org)
	}
	if got, want := strings.Join(ids, ","), "alpha-2-orgb/OrgBMSP,alpha-orga/OrgAMSP,m1-orga/OrgAMSP,zeta-orgb/OrgBMSP"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}

	tests := []struct {
		id   string
		code records.Code
		msg  string
	}{
		{"alpha-orga", "", ""},
		{"nope", records.CodeNotFound, "node 'nope' is not registered"},
		{"", records.CodeInvalid, "id must not be empty"},
		{"a\x00b", records.CodeInvalid, "must match"},
	}
	for _, tt := range tests {
		n, err := call(e, orgB, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Get(ctx, tt.id) })
		if tt.code != "" {
			wantCode(t, err, tt.code, tt.msg)
			continue
		}
		if err != nil || n.ID != tt.id {
			t.Errorf("Get(%q) = %v, %v", tt.id, n, err)
		}
	}
}
