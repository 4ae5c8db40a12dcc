//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// TestIdentityRegistry grants and revokes roles on the real network: the
// admin role comes from the certificates cryptogen issues with NodeOUs, and
// only an organisation's admins change its members' roles.
func TestIdentityRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adminA, userA := adminClient(t, shared, 0), orgClient(t, shared, 0)
	adminB, userB := adminClient(t, shared, 1), orgClient(t, shared, 1)

	me, err := adminA.Whoami(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !me.Has(records.RoleAdmin) || me.MSPID != shared.Orgs[0].MSPID {
		t.Fatalf("Admin@ whoami = %+v, want the admin role from its NodeOU", me)
	}
	userPEM, err := os.ReadFile(shared.Orgs[0].UserCert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(userPEM)
	sum := sha256.Sum256(block.Bytes)
	userHash := hex.EncodeToString(sum[:])
	if u, err := userA.Whoami(ctx); err != nil || len(u.Roles) != 0 || u.CertHash != userHash {
		t.Fatalf("User1 whoami = %+v, %v; want no role and hash %s", u, err, userHash)
	}

	grant := records.GrantInput{Certificate: string(userPEM), Roles: []records.Role{records.RolePublisher}}
	if _, err := userB.GrantIdentity(ctx, grant); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a client granting: %v, want PERMISSION_DENIED", err)
	}
	g, err := adminA.GrantIdentity(ctx, grant)
	if err != nil {
		t.Fatal(err)
	}
	if g.CertHash != userHash || g.MSPID != shared.Orgs[0].MSPID {
		t.Fatalf("grant = %+v", g)
	}
	if u, err := userA.Whoami(ctx); err != nil || !u.Has(records.RolePublisher) {
		t.Fatalf("User1 after the grant: %+v, %v", u, err)
	}
	// Org B's admin may grant only within org B: its grant of org A's
	// certificate does not reach org A's member.
	if _, err := adminB.GrantIdentity(ctx, records.GrantInput{Certificate: string(userPEM), Roles: []records.Role{records.RoleGateway}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := userA.Whoami(ctx); u == nil || u.Has(records.RoleGateway) {
		t.Fatalf("org B's grant reached org A's member: %+v", u)
	}
	if _, err := adminB.RevokeIdentity(ctx, userHash); err != nil {
		t.Fatal(err) // org B's own (meaningless) grant
	}
	if u, _ := userA.Whoami(ctx); u == nil || !u.Has(records.RolePublisher) {
		t.Fatalf("org B's revocation reached org A's member: %+v", u)
	}
	if _, err := adminA.RevokeIdentity(ctx, userHash); err != nil {
		t.Fatal(err)
	}
	h, err := userB.IdentityHistory(ctx, shared.Orgs[0].MSPID, userHash)
	if err != nil || len(h) != 2 || !h[1].IsDelete {
		t.Fatalf("history = %+v, %v; want grant and revocation", h, err)
	}
}
