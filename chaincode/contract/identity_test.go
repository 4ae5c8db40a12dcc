package contract

import (
	"crypto/x509"
	"slices"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// member is a certificate of an organisation, in parsed and PEM form.
type member struct {
	msp  string
	cert *x509.Certificate
	pem  string
}

func newMember(t *testing.T, msp, cn string, ous ...string) member {
	t.Helper()
	cert, p, err := fakes.NewCert(msp, cn, ous...)
	if err != nil {
		t.Fatal(err)
	}
	return member{msp: msp, cert: cert, pem: p}
}

// as runs fn as one committed transaction of m (see callCtx).
func as[T any](e *env, m member, fn func(*fakes.Context) (T, error)) (T, error) {
	e.t.Helper()
	return callCtx(e, e.ledger.NewContextAs(m.msp, m.cert), fn)
}

func TestIdentityRegistry(t *testing.T) {
	e := newEnv(t)
	ids := NewIdentityContract()
	adminA := newMember(t, orgA, "Admin@a", "admin")
	adminB := newMember(t, orgB, "Admin@b", "admin")
	userA := newMember(t, orgA, "User1@a", "client")
	agentA := newMember(t, orgA, "agent0.a", "peer")
	grant := func(m member, in records.GrantInput) (*records.Identity, error) {
		return as(e, m, func(ctx *fakes.Context) (*records.Identity, error) { return ids.Grant(ctx, toJSON(t, in)) })
	}
	whoami := func(m member) *records.Caller {
		t.Helper()
		c, err := as(e, m, func(ctx *fakes.Context) (*records.Caller, error) { return ids.Whoami(ctx) })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	if c := whoami(adminA); !slices.Equal(c.Roles, []records.Role{records.RoleAdmin}) || c.MSPID != orgA {
		t.Fatalf("admin whoami = %+v", c)
	}
	if c := whoami(userA); len(c.Roles) != 0 {
		t.Fatalf("ungranted user has roles %v", c.Roles)
	}

	got, err := grant(adminA, records.GrantInput{Certificate: userA.pem, Roles: []records.Role{records.RolePublisher, records.RoleAuditor}})
	if err != nil {
		t.Fatal(err)
	}
	if got.CertHash != records.CertHash(userA.cert) || got.GrantedBy != adminA.cert.Subject.String() || got.TxID == "" {
		t.Fatalf("grant = %+v", got)
	}
	if c := whoami(userA); !c.Has(records.RolePublisher) || !c.Has(records.RoleAuditor) || c.Has(records.RoleGateway) {
		t.Fatalf("granted user = %+v", c)
	}
	if _, err := grant(adminA, records.GrantInput{Certificate: agentA.pem, Roles: []records.Role{records.RoleNode}, NodeID: "agent0-orga"}); err != nil {
		t.Fatal(err)
	}
	if c := whoami(agentA); !c.Has(records.RoleNode) || c.NodeID != "agent0-orga" {
		t.Fatalf("node identity = %+v", c)
	}

	refusals := []struct {
		name     string
		by       member
		in       string
		code     records.Code
		contains string
	}{
		{"not an admin", userA, toJSON(t, records.GrantInput{Certificate: agentA.pem, Roles: []records.Role{records.RoleGateway}}), records.CodeForbidden, "needs the role admin"},
		{"admin role", adminA, toJSON(t, records.GrantInput{Certificate: userA.pem, Roles: []records.Role{records.RoleAdmin}}), records.CodeInvalid, "NodeOU"},
		{"unknown role", adminA, toJSON(t, records.GrantInput{Certificate: userA.pem, Roles: []records.Role{"root"}}), records.CodeInvalid, "unknown role"},
		{"no role", adminA, toJSON(t, records.GrantInput{Certificate: userA.pem}), records.CodeInvalid, "at least one role"},
		{"role twice", adminA, toJSON(t, records.GrantInput{Certificate: userA.pem, Roles: []records.Role{records.RoleGateway, records.RoleGateway}}), records.CodeInvalid, "twice"},
		{"node without id", adminA, toJSON(t, records.GrantInput{Certificate: agentA.pem, Roles: []records.Role{records.RoleNode}}), records.CodeInvalid, "node id"},
		{"node and more", adminA, toJSON(t, records.GrantInput{Certificate: agentA.pem, Roles: []records.Role{records.RoleNode, records.RoleGateway}, NodeID: "n1"}), records.CodeInvalid, "node role only"},
		{"node id without node role", adminA, toJSON(t, records.GrantInput{Certificate: userA.pem, Roles: []records.Role{records.RoleGateway}, NodeID: "n1"}), records.CodeInvalid, "only the node role"},
		{"not a certificate", adminA, `{"certificate":"hello","roles":["gateway"]}`, records.CodeInvalid, "PEM"},
		{"unknown field", adminA, `{"certificate":"","roles":["gateway"],"msp":"x"}`, records.CodeInvalid, "unknown field"},
		{"own certificate", adminA, toJSON(t, records.GrantInput{Certificate: adminA.pem, Roles: []records.Role{records.RoleGateway}}), records.CodeForbidden, "own certificate"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := as(e, tc.by, func(ctx *fakes.Context) (*records.Identity, error) { return ids.Grant(ctx, tc.in) })
			wantCode(t, err, tc.code, tc.contains)
		})
	}

	// Another organisation's admin cannot give or take roles of org A's
	// certificates: its grant lands in its own namespace and does not
	// change what org A's member may do.
	if _, err := grant(adminB, records.GrantInput{Certificate: userA.pem, Roles: []records.Role{records.RoleGateway}}); err != nil {
		t.Fatal(err)
	}
	if c := whoami(userA); c.Has(records.RoleGateway) || !c.Has(records.RolePublisher) {
		t.Fatalf("org B's grant changed org A's member: %+v", c)
	}
	_, err = as(e, adminB, func(ctx *fakes.Context) (*records.Identity, error) {
		return ids.Revoke(ctx, records.CertHash(agentA.cert))
	})
	wantCode(t, err, records.CodeNotFound, "has no role")
	if c := whoami(agentA); !c.Has(records.RoleNode) {
		t.Fatalf("org B revoked org A's node identity: %+v", c)
	}

	// Revocation by the own admin, with history.
	_, err = as(e, userA, func(ctx *fakes.Context) (*records.Identity, error) {
		return ids.Revoke(ctx, records.CertHash(userA.cert))
	})
	wantCode(t, err, records.CodeForbidden, "admin")
	if _, err := as(e, adminA, func(ctx *fakes.Context) (*records.Identity, error) {
		return ids.Revoke(ctx, records.CertHash(userA.cert))
	}); err != nil {
		t.Fatal(err)
	}
	if c := whoami(userA); len(c.Roles) != 0 {
		t.Fatalf("revoked user keeps %v", c.Roles)
	}
	hist := must(e, orgB, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) {
		return e.hist.Identity(ctx, orgA, records.CertHash(userA.cert))
	})
	if len(hist) != 2 || hist[0].IsDelete || !hist[1].IsDelete {
		t.Fatalf("history = %+v, want grant then revocation", hist)
	}
	list := must(e, orgB, func(ctx *fakes.Context) ([]*records.Identity, error) { return ids.List(ctx) })
	if len(list) != 2 {
		t.Fatalf("list = %d grants, want org A's node and org B's grant", len(list))
	}

	// A caller without a certificate has no identity at all.
	_, err = callCtx(e, e.ledger.NewContextAs(orgA, nil), func(ctx *fakes.Context) (*records.Caller, error) { return ids.Whoami(ctx) })
	wantCode(t, err, records.CodeForbidden, "certificate")
}
