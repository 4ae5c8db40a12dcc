package contract

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// aclWorld is a ledger with one identity per role in each organisation,
// granted by the organisations' admins, two nodes of org A and one of org
// B, and an object of org A recorded by org A's publisher.
type aclWorld struct {
	e       *env
	ids     *IdentityContract
	members map[string]member
}

func newACLWorld(t *testing.T) *aclWorld {
	w := &aclWorld{e: newEnv(t), ids: NewIdentityContract(), members: map[string]member{}}
	for _, org := range []struct{ msp, short string }{{orgA, "A"}, {orgB, "B"}} {
		admin := member{msp: org.msp, cert: w.e.ledger.AdminCert(org.msp)}
		w.members["admin"+org.short] = admin
		for _, role := range []records.Role{records.RolePublisher, records.RoleGateway, records.RoleAuditor, records.RoleNode} {
			m := newMember(t, org.msp, fmt.Sprintf("%s@%s", role, org.msp), "client")
			in := records.GrantInput{Certificate: m.pem, Roles: []records.Role{role}}
			if role == records.RoleNode {
				in.NodeID = "n1-" + records.OrgSlug(org.msp)
			}
			if _, err := as(w.e, admin, func(ctx *fakes.Context) (*records.Identity, error) { return w.ids.Grant(ctx, toJSON(t, in)) }); err != nil {
				t.Fatal(err)
			}
			w.members[string(role)+org.short] = m
		}
	}
	w.e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
	w.e.registerNodes(orgB, "n1-orgb", "n4-orgb")
	w.asRole("publisherA", func(ctx *fakes.Context) (any, error) { return w.e.man.Record(ctx, manifestJSON(t, "obj", "v1")) })
	tok := NewTokenContract()
	for _, org := range []string{orgA, orgB} {
		must(w.e, org, func(ctx *fakes.Context) (*records.Account, error) { return tok.Issue(ctx, 100) })
		must(w.e, org, func(ctx *fakes.Context) (*records.Account, error) { return tok.Deposit(ctx, 50) })
	}
	return w
}

func (w *aclWorld) asRole(who string, fn func(*fakes.Context) (any, error)) error {
	w.e.t.Helper()
	m, ok := w.members[who]
	if !ok {
		w.e.t.Fatalf("no member %s", who)
	}
	_, err := as(w.e, m, fn)
	return err
}

// TestAccessControlMatrix calls every write function as every role of both
// organisations, each on a fresh ledger, and checks it is allowed or
// refused (PERMISSION_DENIED, nothing written) as the Writers table and the
// record rules say. Targets are org A's records.
func TestAccessControlMatrix(t *testing.T) {
	t.Parallel()
	callers := []string{"adminA", "publisherA", "gatewayA", "auditorA", "nodeA", "adminB", "publisherB", "gatewayB", "nodeB"}
	calls := []struct {
		fn      string
		run     func(w *aclWorld, ctx *fakes.Context) (any, error)
		allowed string // callers allowed, space-separated
	}{
		{"node:Register", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.node.Register(ctx, nodeJSON(w.e.t, "n9-orga"))
		}, "adminA"},
		{"node:Update", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.node.Update(ctx, nodeJSON(w.e.t, "n1-orga", func(in *records.NodeInput) { in.Zone = "moved" }))
		}, "adminA nodeA"},
		{"node:Deactivate", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.node.Deactivate(ctx, "n1-orga", "maintenance")
		}, "adminA nodeA"},
		{"manifest:Record", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Record(ctx, manifestJSON(w.e.t, "new", "v1"))
		}, "adminA publisherA adminB publisherB"}, // each for its own org's publisher; B owns "new" then
		{"manifest:Record for org A's publisher", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Record(ctx, manifestJSON(w.e.t, "new", "v1", func(m *records.Manifest) {
				m.PublishedBy = records.CertHash(w.members["publisherA"].cert)
			}))
		}, "adminA publisherA gatewayA"},
		{"manifest:Record of org A's name", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Record(ctx, manifestJSON(w.e.t, "obj", "v2"))
		}, "adminA publisherA"},
		{"manifest:Purge", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Purge(ctx, "obj", "v1", "withdrawn")
		}, "adminA publisherA gatewayA"},
		{"manifest:UpdateHolders", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.UpdateHolders(ctx, "obj", "v1", "1", idsJSON("n2-orga"), idsJSON("n4-orgb"))
		}, "adminA gatewayA"},
		{"identity:Grant", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			m := newMember(w.e.t, orgA, "new@A", "client")
			return w.ids.Grant(ctx, toJSON(w.e.t, records.GrantInput{Certificate: m.pem, Roles: []records.Role{records.RoleAuditor}}))
		}, "adminA adminB"}, // B's grant lands in B's namespace
		{"identity:Revoke", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.ids.Revoke(ctx, records.CertHash(w.members["auditorA"].cert))
		}, "adminA"},
		{"token:Issue (into its own org)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Issue(ctx, 10)
		}, "adminA adminB"},
		{"token:Transfer (to the other org)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			to := orgB
			if msp, _ := ctx.Identity.GetMSPID(); msp == orgB {
				to = orgA
			}
			return NewTokenContract().Transfer(ctx, to, 10)
		}, "adminA publisherA adminB publisherB"},
		{"token:Deposit", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Deposit(ctx, 10)
		}, "adminA publisherA adminB publisherB"},
		{"token:Withdraw", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Withdraw(ctx, 10)
		}, "adminA publisherA adminB publisherB"},
		{"token:SetPrice", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().SetPrice(ctx, 5)
		}, "adminA adminB"},
		{"token:SettleQueued", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().SettleQueued(ctx)
		}, "adminA publisherA gatewayA auditorA nodeA adminB publisherB gatewayB nodeB"},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-40s", "function \\ caller")
	for _, c := range callers {
		fmt.Fprintf(&table, " %-10s", c)
	}
	table.WriteString("\n")
	for _, c := range calls {
		fmt.Fprintf(&table, "%-40s", c.fn)
		for _, who := range callers {
			w := newACLWorld(t)
			err := w.asRole(who, func(ctx *fakes.Context) (any, error) { return c.run(w, ctx) })
			want := strings.Contains(" "+c.allowed+" ", " "+who+" ")
			got := err == nil
			mark := "refused"
			if got {
				mark = "allowed"
			}
			fmt.Fprintf(&table, " %-10s", mark)
			switch {
			case want && !got:
				t.Errorf("%s as %s: refused (%v), want allowed", c.fn, who, err)
			case !want && got:
				t.Errorf("%s as %s: allowed, want refused", c.fn, who)
			case !want && records.CodeOf(err) != records.CodeForbidden && records.CodeOf(err) != records.CodeNotFound:
				t.Errorf("%s as %s: %v, want PERMISSION_DENIED", c.fn, who, err)
			}
		}
		table.WriteString("\n")
	}
	t.Logf("access control matrix (fakes):\n%s", table.String())
}

// TestOwnerEndorsement checks that the records an organisation owns carry a
// key-level endorsement policy naming it.
func TestOwnerEndorsement(t *testing.T) {
	w := newACLWorld(t)
	for _, key := range []struct{ typ, a, b string }{
		{records.NodeKeyType, "n1-orga", ""}, {records.ManifestKeyType, "obj", "v1"}, {records.ObjectKeyType, "obj", ""},
	} {
		attrs := []string{key.a}
		if key.b != "" {
			attrs = append(attrs, key.b)
		}
		k, _ := records.CompositeKey(key.typ, attrs...)
		ep := w.e.ledger.ValidationParameter(k)
		if len(ep) == 0 || !strings.Contains(string(ep), orgA) || strings.Contains(string(ep), orgB) {
			t.Errorf("%s %v: endorsement policy %q, want org A's peers", key.typ, attrs, ep)
		}
	}
}

// TestRecordPlacementRule: Record refuses a manifest where a node holds k
// or more shards.
func TestRecordPlacementRule(t *testing.T) {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga")
	_, err := call(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.Record(ctx, toJSON(t, manifest("obj", "v1", "n1-orga", "n1-orga", "n2-orga")))
	})
	wantCode(t, err, records.CodeInvalid, "a node may hold at most 1 (k = 2)")
}
